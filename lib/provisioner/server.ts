/**
 * The HTTP face of the provisioner (fastify): the contract Paymenter's ProxmoxWP extension speaks
 * (../shared/seed-system/provisioning.md). Every request needs `Authorization: Bearer <token>`,
 * compared in constant time before its body is even read. Replies are JSON; errors are
 * `{"success": false, "error": "<message>"}` with 400 (bad or missing parameter), 401 (token),
 * 404 (unknown service or endpoint), 409 (the site's state or the cluster's room forbids it),
 * 413 (body over the limit), 415 (not JSON), 500.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { z } from "zod";
import type { BillingEvent } from "./events";
import { createSiteBody, serviceBody, statusQuery, upgradeBody } from "./events";
import { error, type Decision, type Ledger, type Reply } from "./ledger";

/** Largest request body accepted: the contract's bodies are a few hundred bytes. */
export const BODY_LIMIT = 16 * 1024;

export interface ServerDeps {
  token: string;
  ledger: Ledger;
  /** Records an accepted event: in the picture at once, on disk when the promise resolves. */
  accept: (event: BillingEvent) => Promise<void>;
  status: (serviceId: number) => Promise<Reply>;
  health: () => Record<string, unknown>;
  logLevel: string;
  /** Where log lines go (tests capture them). */
  logStream?: NodeJS.WritableStream;
}

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/** Whether the Authorization header carries the token; constant time whatever the input. */
export function tokenMatches(header: string | undefined, expected: Buffer): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  // Hashing first gives equal lengths, so the comparison takes the same time for any candidate.
  const given = digest(m?.[1] ?? "");
  return timingSafeEqual(given, expected) && m !== null;
}

/** The first problem of a request body, named by the request and field. */
function invalid(request: FastifyRequest, input: unknown, err: z.ZodError): Reply {
  const issue = err.issues[0]!;
  const field = issue.path.join(".") || "(body)";
  const isObject = typeof input === "object" && input !== null && !Array.isArray(input);
  const missing =
    isObject && issue.path.length === 1 && (input as Record<string, unknown>)[String(issue.path[0])] === undefined;
  const message = !isObject ? "must be a JSON object" : missing ? "is required" : issue.message;
  return error(400, `${request.method} ${request.routeOptions.url ?? request.url}: ${field}: ${message}`);
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  const expected = digest(deps.token);
  const app = Fastify({
    logger: {
      level: deps.logLevel,
      redact: { paths: ["req.headers.authorization", "headers.authorization"], censor: "[redacted]" },
      ...(deps.logStream ? { stream: deps.logStream } : {}),
    },
    bodyLimit: BODY_LIMIT,
    routerOptions: { ignoreTrailingSlash: true },
    return503OnClosing: true,
  });
  // JSON only: the contract's bodies are JSON (the extension sends them with asJson()).
  app.removeContentTypeParser("text/plain");

  const send = (reply: FastifyReply, r: Reply) => reply.code(r.status).send(r.body);

  app.addHook("onRequest", async (request, reply) => {
    if (!tokenMatches(request.headers.authorization, expected)) {
      request.log.warn({ url: request.url }, "refused: missing or wrong bearer token");
      return send(reply, error(401, "unauthorized: missing or wrong bearer token"));
    }
  });

  /** Decides (synchronously, in arrival order), records the event durably, then answers. */
  const answer = async (reply: FastifyReply, decision: Decision) => {
    if (decision.event) await deps.accept(decision.event);
    return send(reply, decision.reply);
  };

  const post = <T extends z.ZodType>(path: string, schema: T, decide: (body: z.output<T>) => Decision) =>
    app.post(path, async (request, reply) => {
      const parsed = schema.safeParse(request.body);
      if (!parsed.success) return send(reply, invalid(request, request.body, parsed.error));
      return answer(reply, decide(parsed.data));
    });

  post("/create-site", createSiteBody, (b) =>
    deps.ledger.createSite({ serviceId: b.service_id, email: b.email, plan: b.plan, publicIp: b.public_ip }),
  );
  post("/suspend", serviceBody, (b) => deps.ledger.suspend(b.service_id));
  post("/unsuspend", serviceBody, (b) => deps.ledger.unsuspend(b.service_id));
  post("/delete-site", serviceBody, (b) => deps.ledger.deleteSite(b.service_id));
  post("/wp/upgrade", upgradeBody, (b) => deps.ledger.upgrade(b.service_id, b.plan));

  app.get("/status", async (request, reply) => {
    const parsed = statusQuery.safeParse(request.query);
    if (!parsed.success) return send(reply, invalid(request, request.query, parsed.error));
    return send(reply, await deps.status(parsed.data.service_id));
  });
  app.get("/health", async (_request, reply) =>
    reply.send({ status: "ok", timestamp: new Date().toISOString(), ...deps.health() }),
  );

  app.setNotFoundHandler(async (request, reply) =>
    send(reply, error(404, `no such endpoint: ${request.method} ${request.url.split("?")[0]}`)),
  );
  app.setErrorHandler(async (err: { code?: string; statusCode?: number; message: string }, request, reply) => {
    const where = `${request.method} ${request.url.split("?")[0]}`;
    switch (err.code) {
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        return send(reply, error(413, `${where}: body is larger than ${BODY_LIMIT} bytes`));
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
        return send(
          reply,
          error(
            415,
            `${where}: Content-Type must be application/json (was ${request.headers["content-type"] ?? "none"})`,
          ),
        );
      case "FST_ERR_CTP_EMPTY_JSON_BODY":
        return send(reply, error(400, `${where}: (body): is empty; a JSON object is required`));
      case "FST_ERR_CTP_INVALID_JSON_BODY":
        return send(reply, error(400, `${where}: (body): is not valid JSON`));
    }
    if (err instanceof SyntaxError || err.statusCode === 400)
      return send(reply, error(400, `${where}: (body): ${err.message}`));
    request.log.error({ err }, "request failed");
    return send(reply, error(500, `${where}: internal error (see the provisioner's log)`));
  });
  return app;
}
