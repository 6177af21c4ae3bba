import * as path from "node:path";

/** The vendored API contracts (see contracts/README.md), resolved from the project root. */
export const CONTRACTS_DIR = path.resolve(__dirname, "..", "contracts");
/** The Proxmox VE API schema: paths, parameters, bounds, permission checks. */
export const PVE_API_SCHEMA_PATH = path.join(CONTRACTS_DIR, "proxmox-ve", "api-schema.json");
/** Nginx Proxy Manager's OpenAPI schema (`swagger.json` and the files it references). */
export const NPM_CONTRACT_DIR = path.join(CONTRACTS_DIR, "nginx-proxy-manager");
