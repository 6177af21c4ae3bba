/**
 * A small client for the parts of the Proxmox VE REST API (`/api2/json`) this project calls itself:
 * storage definitions (`GET /storage`) and backup jobs (`/cluster/backup`). Authenticates with an API
 * token (`Authorization: PVEAPIToken=user@realm!name=secret`), sends parameters form-encoded (booleans
 * as 1/0), and unwraps PVE's `{"data": ...}` envelope.
 *
 * Errors are plain `Error`s carrying `status` (HTTP status, 0 when no answer), `pveMessage` (the
 * message PVE put in the status line and the body) and `pveErrors` (per-parameter messages of a
 * 400), recognized with `pveStatus(err)`; no error classes (see lib/dynamicProviderLoader.ts). The
 * token never appears in a message.
 */
import * as http from "node:http";
import * as https from "node:https";

/** How to reach the API and who to be. */
export interface PveConnection {
  /** API endpoint, e.g. `https://192.168.1.10:8006/`. */
  readonly endpoint: string;
  /** Accept the cluster's self-signed certificate. */
  readonly insecure: boolean;
  /** `user@realm!tokenname=secret`. */
  readonly apiToken: string;
}

/** A value PVE takes as a parameter. */
export type PveParam = string | number | boolean | undefined;

export interface PveClient {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, params: Record<string, PveParam>): Promise<T>;
  put<T>(path: string, params: Record<string, PveParam>): Promise<T>;
  delete<T>(path: string): Promise<T>;
}

/** The HTTP status of a PVE error (0: no answer), or undefined when `err` is not one. */
export function pveStatus(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined;
  const status = (err as Error & { status?: unknown }).status;
  return typeof status === "number" ? status : undefined;
}

/** PVE's per-parameter messages of a 400 answer. */
export function pveParamErrors(err: unknown): Record<string, string> {
  return (err instanceof Error && (err as Error & { pveErrors?: Record<string, string> }).pveErrors) || {};
}

function pveError(
  message: string,
  extra: { status: number; pveMessage?: string; pveErrors?: Record<string, string> },
): Error {
  return Object.assign(new Error(message), extra);
}

function formBody(params: Record<string, PveParam>): string {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    form.append(k, typeof v === "boolean" ? (v ? "1" : "0") : String(v));
  }
  return form.toString();
}

/** A client for `connection`; every request times out after `timeoutMs` (default 30 s). */
export function createPveClient(connection: PveConnection, timeoutMs = 30_000): PveClient {
  const base = new URL(
    "api2/json/",
    connection.endpoint.endsWith("/") ? connection.endpoint : `${connection.endpoint}/`,
  );
  const secret = connection.apiToken.slice(connection.apiToken.indexOf("=") + 1);
  const scrub = (text: string): string => (secret ? text.split(secret).join("[redacted]") : text);

  const request = <T>(method: string, path: string, params?: Record<string, PveParam>): Promise<T> => {
    const url = new URL(path.replace(/^\//, ""), base);
    const body = params && method !== "GET" && method !== "DELETE" ? formBody(params) : undefined;
    const where = `${method} ${url.pathname.replace(/^\/api2\/json/, "")}`;
    const transport = url.protocol === "https:" ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = transport.request(
        url,
        {
          method,
          headers: {
            Authorization: `PVEAPIToken=${connection.apiToken}`,
            Accept: "application/json",
            ...(body !== undefined
              ? { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": Buffer.byteLength(body) }
              : {}),
          },
          ...(url.protocol === "https:" ? { rejectUnauthorized: !connection.insecure } : {}),
          timeout: timeoutMs,
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            let parsed: { data?: unknown; message?: unknown; errors?: Record<string, string> } | undefined;
            try {
              parsed = text ? (JSON.parse(text) as typeof parsed) : undefined;
            } catch {
              parsed = undefined;
            }
            if (status >= 200 && status < 300) {
              if (parsed === undefined)
                return reject(pveError(`PVE ${where}: answered ${status} without JSON`, { status }));
              return resolve(parsed.data as T);
            }
            const pveMessage = scrub(
              String((typeof parsed?.message === "string" && parsed.message) || res.statusMessage || "").trim(),
            );
            const pveErrors = parsed?.errors ?? undefined;
            const detail = pveErrors
              ? ` (${Object.entries(pveErrors)
                  .map(([k, v]) => `${k}: ${scrub(String(v)).trim()}`)
                  .join("; ")})`
              : "";
            reject(
              pveError(`PVE ${where}: ${status} ${pveMessage}${detail}`, {
                status,
                pveMessage,
                ...(pveErrors ? { pveErrors } : {}),
              }),
            );
          });
        },
      );
      req.on("timeout", () => req.destroy(pveError(`PVE ${where}: no answer within ${timeoutMs} ms`, { status: 0 })));
      req.on("error", (err) =>
        reject(pveStatus(err) === 0 ? err : pveError(`PVE ${where}: ${scrub(err.message)}`, { status: 0 })),
      );
      if (body !== undefined) req.write(body);
      req.end();
    });
  };

  return {
    get: (path) => request("GET", path),
    post: (path, params) => request("POST", path, params),
    put: (path, params) => request("PUT", path, params),
    delete: (path) => request("DELETE", path),
  };
}
