import { resolve } from "node:path";
import { PROJECT_ROOT, projectStacks, stackConfigOf } from "../config/stacks";
import { loadCustomerFiles } from "./loadCustomers";

/** Where a domain is already served, across every stack (cluster) of the project. */
export interface DomainOwner {
  stack: string;
  file: string;
}

/**
 * Every customer domain of every stack (sites' and custom domains), lower-cased, with the file that
 * claims it. A domain is
 * unique across clusters, not only within one: two clusters answering for one site would split its
 * DNS and its certificates.
 */
export function customerDomainsOfAllStacks(root: string = PROJECT_ROOT): Map<string, DomainOwner[]> {
  const owners = new Map<string, DomainOwner[]>();
  for (const stack of projectStacks(root)) {
    const config = stackConfigOf(stack, root);
    for (const c of loadCustomerFiles(resolve(root, config.customersDir), root).files) {
      for (const domain of [c.data.domain, ...(c.data.customDomains ?? []).map((d) => d.domain)].map((d) =>
        d.toLowerCase(),
      ))
        owners.set(domain, [...(owners.get(domain) ?? []), { stack, file: c.file }]);
    }
  }
  return owners;
}
