/** When a certificate NPM reports can serve HTTPS: pure rules, checked over generated rows. */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { certificateState, coversDomains, isAbandonedIssuance, parseNpmTime } from "../../lib/npm/certificates";
import type { Certificate } from "../../lib/npm/client";

const DAY = 86_400_000;
/** NPM's database format (UTC, second resolution). */
const npmTime = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "");
const whole = (ms: number): number => Math.floor(ms / 1000) * 1000;
const instant = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }).map(whole);

function cert(created: number, expires: number, domains = ["a.example"]): Certificate {
  return {
    id: 1,
    provider: "letsencrypt",
    domain_names: domains,
    created_on: npmTime(created),
    expires_on: npmTime(expires),
  };
}

describe("parseNpmTime", () => {
  test("NPM's database format and ISO 8601 name the same instant", () => {
    fc.assert(
      fc.property(instant, (t) => {
        expect(parseNpmTime(npmTime(t))).toBe(t);
        expect(parseNpmTime(new Date(t).toISOString())).toBe(t);
      }),
    );
  });

  test("the recorded formats", () => {
    expect(parseNpmTime("2027-02-27 16:49:34")).toBe(Date.UTC(2027, 1, 27, 16, 49, 34));
    expect(parseNpmTime("2025-01-07T04:34:18.000Z")).toBe(Date.UTC(2025, 0, 7, 4, 34, 18));
    expect(parseNpmTime("soon")).toBeNaN();
  });
});

describe("certificateState", () => {
  test("no row (deleted, dangling id) is missing", () => {
    expect(certificateState(null, Date.now())).toBe("missing");
    expect(certificateState(undefined, Date.now())).toBe("missing");
    expect(certificateState({ ...cert(0, 0), expires_on: "never" }, Date.now())).toBe("missing");
  });

  test("a row expiring when it was created (inserted before certbot ran) is being issued, whenever asked", () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: -DAY, max: 400 * DAY }), (created, later) => {
        expect(certificateState(cert(created, created), created + later)).toBe("being-issued");
      }),
    );
  });

  test("an issued row is usable until it expires, then expired", () => {
    fc.assert(
      fc.property(
        instant,
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 0, max: 200 * DAY }),
        (created, days, after) => {
          const expires = created + days * DAY;
          const now = created + after;
          expect(certificateState(cert(created, expires), now)).toBe(now < expires ? "usable" : "expired");
        },
      ),
    );
  });

  test("only a usable row is ever usable: missing, being issued and expired never are", () => {
    fc.assert(
      fc.property(instant, instant, instant, (created, expires, now) => {
        const state = certificateState(cert(created, expires), now);
        expect(state === "usable").toBe(expires > created && expires > now);
      }),
    );
  });
});

describe("isAbandonedIssuance", () => {
  test("only a row being issued for longer than the limit", () => {
    const created = Date.UTC(2026, 5, 1);
    const limit = 30 * 60_000;
    expect(isAbandonedIssuance(cert(created, created), created + limit - 1000, limit)).toBe(false);
    expect(isAbandonedIssuance(cert(created, created), created + limit + 1000, limit)).toBe(true);
    expect(isAbandonedIssuance(cert(created, created + 90 * DAY), created + 10 * DAY, limit)).toBe(false);
  });
});

describe("coversDomains", () => {
  test("every wanted name, case-insensitively; extra names do not matter", () => {
    const c = cert(0, DAY, ["B.example", "www.b.example"]);
    expect(coversDomains(c, ["b.example"])).toBe(true);
    expect(coversDomains(c, ["WWW.B.EXAMPLE", "b.example"])).toBe(true);
    expect(coversDomains(c, ["b.example", "c.example"])).toBe(false);
    expect(coversDomains(c, [])).toBe(true);
  });
});
