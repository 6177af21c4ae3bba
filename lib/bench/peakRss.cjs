// Preloaded into a measured process (node --require): when it exits, writes its peak resident set
// size in KiB (process.resourceUsage().maxRSS) to the file named by NODEPOINT_PEAK_RSS_FILE.
"use strict";
const process = require("node:process");
process.on("exit", () => {
  const file = process.env.NODEPOINT_PEAK_RSS_FILE;
  if (file) require("fs").writeFileSync(file, String(process.resourceUsage().maxRSS));
});
