/**
 * Every bad request gets the contract's JSON error (`{"success": false, "error": ...}` naming the
 * request and the field) and writes nothing: no journal record, no commit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BODY_LIMIT } from "../../lib/provisioner/server";
import {
  call,
  freshRemote,
  journalLines,
  PUBLIC_IP,
  remoteCommits,
  startService,
  TOKEN,
  type Service,
} from "./harness";

let remote: string;
let service: Service;
let head: string;

beforeAll(async () => {
  remote = freshRemote();
  head = remoteCommits(remote)[0]!.hash;
  service = await startService({ remote });
}, 120_000);
afterAll(async () => {
  await service?.stop();
});

const order = { service_id: "501", email: "ok@example.org", plan: "basic", public_ip: PUBLIC_IP };
const without = (key: keyof typeof order) => Object.fromEntries(Object.entries(order).filter(([k]) => k !== key));

type Case = [
  name: string,
  method: "GET" | "POST",
  path: string,
  body: unknown,
  options: Parameters<typeof call>[4],
  status: number,
  error: string | RegExp,
];
const cases: Case[] = [
  ["no token", "POST", "/create-site", order, { token: null }, 401, "unauthorized"],
  ["wrong token", "POST", "/create-site", order, { token: "not-the-token-at-all" }, 401, "unauthorized"],
  ["token one character off", "POST", "/create-site", order, { token: `${TOKEN.slice(0, -1)}x` }, 401, "unauthorized"],
  ["no token on status", "GET", "/status", { service_id: "1" }, { token: null }, 401, "unauthorized"],
  ["no token on health", "GET", "/health", undefined, { token: null }, 401, "unauthorized"],
  [
    "missing service_id",
    "POST",
    "/create-site",
    without("service_id"),
    {},
    400,
    "POST /create-site: service_id: is required",
  ],
  ["missing email", "POST", "/create-site", without("email"), {}, 400, "POST /create-site: email: is required"],
  ["missing plan", "POST", "/create-site", without("plan"), {}, 400, "POST /create-site: plan: is required"],
  [
    "missing public_ip",
    "POST",
    "/create-site",
    without("public_ip"),
    {},
    400,
    "POST /create-site: public_ip: is required",
  ],
  [
    "bad email",
    "POST",
    "/create-site",
    { ...order, email: "not-an-email" },
    {},
    400,
    "email: must be an e-mail address",
  ],
  ["unknown plan", "POST", "/create-site", { ...order, plan: "gold" }, {}, 400, 'plan: "gold" is not a plan'],
  ["service_id not a number", "POST", "/create-site", { ...order, service_id: "12a" }, {}, 400, "service_id:"],
  ["service_id zero", "POST", "/create-site", { ...order, service_id: 0 }, {}, 400, "service_id:"],
  ["service_id fractional", "POST", "/create-site", { ...order, service_id: 1.5 }, {}, 400, "service_id:"],
  ["public_ip malformed", "POST", "/create-site", { ...order, public_ip: "999.1.1.1" }, {}, 400, "public_ip:"],
  [
    "public_ip not the ingress",
    "POST",
    "/create-site",
    { ...order, public_ip: "198.51.100.7" },
    {},
    400,
    "public_ip: 198.51.100.7 is not where",
  ],
  ["malformed JSON", "POST", "/create-site", undefined, { raw: '{"service_id": "5",' }, 400, "is not valid JSON"],
  ["empty JSON body", "POST", "/suspend", undefined, { raw: "" }, 400, "(body)"],
  ["JSON array", "POST", "/suspend", undefined, { raw: "[1,2]" }, 400, "(body): must be a JSON object"],
  [
    "text/plain",
    "POST",
    "/create-site",
    order,
    { contentType: "text/plain" },
    415,
    "Content-Type must be application/json",
  ],
  [
    "form-encoded",
    "POST",
    "/suspend",
    undefined,
    { raw: "service_id=5", contentType: "application/x-www-form-urlencoded" },
    415,
    "Content-Type",
  ],
  [
    "body over the limit",
    "POST",
    "/create-site",
    { ...order, padding: "x".repeat(BODY_LIMIT) },
    {},
    413,
    `larger than ${BODY_LIMIT} bytes`,
  ],
  [
    "suspend unknown service",
    "POST",
    "/suspend",
    { service_id: "999" },
    {},
    404,
    "service_id: no site for service 999",
  ],
  ["unsuspend unknown service", "POST", "/unsuspend", { service_id: "999" }, {}, 404, "no site for service 999"],
  ["delete unknown service", "POST", "/delete-site", { service_id: "999" }, {}, 404, "no site for service 999"],
  [
    "upgrade unknown service",
    "POST",
    "/wp/upgrade/",
    { service_id: "999", plan: "premium" },
    {},
    404,
    "no site for service 999",
  ],
  ["upgrade unknown plan", "POST", "/wp/upgrade/", { service_id: "999", plan: "gold" }, {}, 400, 'plan: "gold"'],
  ["upgrade without plan", "POST", "/wp/upgrade/", { service_id: "999" }, {}, 400, "plan: is required"],
  ["suspend without service_id", "POST", "/suspend", {}, {}, 400, "service_id: is required"],
  ["status unknown service", "GET", "/status", { service_id: "999" }, {}, 404, "no site for service 999"],
  [
    "status of a customer billing does not manage",
    "GET",
    "/status",
    { service_id: "1" },
    {},
    404,
    "no site for service 1",
  ],
  ["status without service_id", "GET", "/status", undefined, {}, 400, "service_id: is required"],
  ["unknown endpoint", "POST", "/create-vm", order, {}, 404, "no such endpoint: POST /create-vm"],
];

describe("bad input is refused with the contract's JSON error, and nothing is written", { timeout: 60_000 }, () => {
  it.each(cases)("%s", async (_name, method, path, body, options, status, message) => {
    const r = await call(service, method, path, body, options);
    expect(r.status).toBe(status);
    expect(r.body).toEqual({ success: false, error: expect.any(String) });
    if (typeof message === "string") expect(r.body["error"]).toContain(message);
    else expect(r.body["error"]).toMatch(message);
  });

  it("after all of them: no journal record, no commit, and the token in no log line", async () => {
    await new Promise((r) => setTimeout(r, 1000));
    expect(journalLines(service.stateDir)).toEqual([]);
    expect(remoteCommits(remote)[0]!.hash).toBe(head);
    expect(service.output()).not.toContain(TOKEN);
    expect(service.output()).not.toContain(TOKEN.slice(0, -1));
    expect(service.output()).not.toContain("not-the-token-at-all");
  });

  it("and a good request still works (the service was not upset by them)", async () => {
    const r = await call(service, "POST", "/create-site", order);
    expect(r).toEqual({
      status: 200,
      body: { success: true, vmid: 1003, private_ip: "192.168.1.103", subdomain: "ok" },
    });
  });
});
