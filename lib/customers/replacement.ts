/**
 * The guard on changes that replace a customer's container (and destroy the site's data), and what
 * a confirmed one does. Pure: customers and their files in, the baseline (the committed desired
 * state, lib/customers/baseline.ts) beside them, problems and decisions out.
 *
 * A replacement takes two merges, as a removal does, because Proxmox refuses to delete a container
 * whose protection flag is on or that is an HA resource, and Pulumi deletes and creates in one step:
 *
 * 1. The file changes the field and says `confirmReplace: [<field>]`. The site is *prepared*: its
 *    container stays where it is (the baseline's values), Pulumi's `protect` and PVE's protection
 *    are lifted, its HA resource and rule are removed, and its `replaceOnChanges` records the
 *    confirmed fields. Nothing is destroyed.
 * 2. Once that is deployed, `confirmReplace` is removed (the confirmation is consumed by running
 *    it). The baseline shows the prepared container, so the change is allowed: the container is
 *    deleted and created again (`deleteBeforeReplace`, since its VMID is fixed), then its firewall,
 *    installer, HA resource and HA rule are created for it; protection is back on.
 *
 * Refused: a replacing change neither confirmed nor prepared; a `confirmReplace` with nothing to
 * confirm (the field equals the baseline's, the customer is new, or there is no baseline), since it
 * would stay in the file as a standing permission; a new file that starts `decommissioned`.
 */
import type { InputProblem } from "../errors";
import { customerChangeReplaces } from "../providerFacts";
import type { Baseline, Placement } from "./baseline";
import type { ParsedCustomerFile } from "./loadCustomers";
import { REPLACING_FIELDS, type Customer, type ReplacingField } from "./schema";

/** A confirmed replacement of one site's container. */
export interface SiteReplacement {
  /** `prepare`: protection lifted, nothing destroyed; `execute`: the container is re-created. */
  phase: "prepare" | "execute";
  /** The fields that change. */
  fields: ReplacingField[];
  /** Where the container is (the baseline). */
  from: Placement;
  /** Where the file puts it. */
  to: Placement;
}

export interface ReplacementDecisions {
  problems: InputProblem[];
  /** Sites with a confirmed replacement, by slug. */
  replacements: Map<string, SiteReplacement>;
}

/** A customer's placement as its file resolves it. */
export function placementOf(c: Pick<Customer, ReplacingField>): Placement {
  return { vmid: c.vmid, node: c.node, storage: c.storage, diskGiB: c.diskGiB };
}

const TWO_MERGES =
  "that merge lifts the container's protection and removes its HA; the next one, which removes confirmReplace, destroys and re-creates it";

/**
 * Judges every customer's replacing changes against the baseline. `baseline` undefined: there is no
 * committed desired state (a new stack), so nothing can have been deployed.
 */
export function replacementDecisions(
  customers: readonly Customer[],
  files: readonly ParsedCustomerFile[],
  baseline: Baseline | undefined,
): ReplacementDecisions {
  const problems: InputProblem[] = [];
  const replacements = new Map<string, SiteReplacement>();
  const fileOf = new Map(files.map((f) => [f.slug, f]));
  for (const c of customers) {
    const add = (field: string, message: string) => problems.push({ file: c.file, field, message });
    const confirmed = [...new Set(fileOf.get(c.slug)?.data.confirmReplace ?? [])];
    const deployed = baseline?.sites.get(c.slug);
    if (!deployed) {
      const why = baseline
        ? `${c.slug} is not in ${baseline.file} yet (a new customer has no container to replace)`
        : "there is no committed desired state (desired-state/<stack>.json) to compare with";
      for (const f of confirmed) add("confirmReplace", `${f}: nothing to confirm: ${why}; remove it`);
      if (baseline && c.state === "decommissioned")
        add(
          "state",
          `a new customer cannot start decommissioned (${c.slug} is not in ${baseline.file}): create it active, or do not create it`,
        );
      continue;
    }
    const from = deployed.placement;
    const to = placementOf(c);
    const changed = REPLACING_FIELDS.filter((f) => from[f] !== undefined && customerChangeReplaces(f, from[f], to[f]));
    for (const f of confirmed.filter((x) => !changed.includes(x))) {
      const grows = f === "diskGiB" && typeof from[f] === "number" && Number(to[f]) > from[f];
      add(
        "confirmReplace",
        `${f}: nothing to confirm: ${f} is ${String(to[f])}${grows ? `, larger than the deployed ${from[f]} (a disk grows in place)` : ` in ${baseline!.file} too`}; remove it (a confirmation must not stay as a standing permission)`,
      );
    }
    const unconfirmed = changed.filter((f) => !confirmed.includes(f) && !deployed.prepared.includes(f));
    for (const f of unconfirmed) {
      const what = f === "diskGiB" ? `shrinks from ${from[f]} to ${to[f]} GiB` : `changes from ${from[f]} to ${to[f]}`;
      add(
        f,
        `${what}, which replaces the container and destroys the site's data; to do it anyway add "confirmReplace: [${f}]" (${TWO_MERGES})`,
      );
    }
    if (changed.length === 0 || unconfirmed.length > 0) continue;
    const preparing = changed.some((f) => confirmed.includes(f));
    replacements.set(c.slug, { phase: preparing ? "prepare" : "execute", fields: changed, from, to });
  }
  return { problems, replacements };
}

/**
 * The placement a site's container is declared with: where the baseline has it while a replacement
 * is being prepared, the file's otherwise. Only the fields that change keep the baseline's value
 * (a disk that grows meanwhile is resized in place).
 */
export function declaredPlacement(c: Customer, replacement: SiteReplacement | undefined): Customer {
  if (replacement?.phase !== "prepare") return c;
  const kept = Object.fromEntries(replacement.fields.map((f) => [f, replacement.from[f]]));
  return { ...c, ...kept };
}
