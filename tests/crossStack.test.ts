/** Several clusters, one project: a customer domain belongs to exactly one stack. */
import { describe, expect, it } from "vitest";
import { projectStacks } from "../lib/config/stacks";
import { customerDomainsOfAllStacks } from "../lib/customers/crossStack";
import { ROOT } from "./helpers/offlinePlan";

describe("across stacks", () => {
  it("every stack file parses, and no domain is claimed by two customer files anywhere", () => {
    expect(projectStacks(ROOT)).toEqual(["bench", "prod"]);
    // The project's own customer files, whatever they are: a property of every commit, not a count.
    const owners = customerDomainsOfAllStacks(ROOT);
    const shared = [...owners]
      .filter(([, o]) => o.length > 1)
      .map(([d, o]) => `${d}: ${o.map((x) => `${x.stack}/${x.file}`).join(", ")}`);
    expect(shared).toEqual([]);
  });
});
