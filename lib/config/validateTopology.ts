import type { InputProblem } from "../errors";
import { cidrContains, ipToInt } from "../net/ipv4";
import { quorumOf, routerRuleProblems } from "./clusterRules";
import type { StackConfig } from "./schema";

/**
 * Cross-field rules of the stack config that a schema of single values cannot express.
 * Pure: returns every problem found, each naming the file and the `nodepoint:` key.
 */
export function validateTopology(config: StackConfig, file: string): InputProblem[] {
  const problems: InputProblem[] = [];
  const add = (field: string, message: string) => problems.push({ file, field: `nodepoint:${field}`, message });

  const nodeNames = new Set<string>();
  const nodeIps = new Map<string, string>();
  config.nodes.forEach((node, i) => {
    if (nodeNames.has(node.name)) add(`nodes[${i}].name`, `duplicate node name "${node.name}"`);
    nodeNames.add(node.name);
    const other = nodeIps.get(node.ip);
    if (other) add(`nodes[${i}].ip`, `${node.ip} is already the address of ${other}`);
    nodeIps.set(node.ip, node.name);
    if (!cidrContains(config.networks.lan.cidr, node.ip))
      add(`nodes[${i}].ip`, `${node.ip} is outside the LAN ${config.networks.lan.cidr}`);
  });
  const quorum = quorumOf(config.nodes.length);
  if (config.nodes.length < 3)
    add(
      "nodes",
      `an HA cluster needs at least 3 nodes to keep quorum (${quorum} of ${config.nodes.length}) through one node failure`,
    );
  const checkNode = (field: string, name: string) => {
    if (!nodeNames.has(name)) add(field, `unknown node "${name}" (nodes: ${[...nodeNames].join(", ")})`);
  };

  const storageById = new Map<string, StackConfig["storage"][number]>();
  config.storage.forEach((pool, i) => {
    if (storageById.has(pool.id)) add(`storage[${i}].id`, `duplicate storage id "${pool.id}"`);
    storageById.set(pool.id, pool);
    pool.nodes.forEach((n, j) => checkNode(`storage[${i}].nodes[${j}]`, n));
    for (const n of pool.nodes) {
      if (pool.capacityGiB[n] === undefined) add(`storage[${i}].capacityGiB`, `no capacity given for node "${n}"`);
    }
    for (const n of Object.keys(pool.capacityGiB)) {
      if (!pool.nodes.includes(n)) add(`storage[${i}].capacityGiB.${n}`, `"${n}" is not one of this pool's nodes`);
    }
    for (const n of Object.keys(pool.usedGiB)) {
      if (!pool.nodes.includes(n)) add(`storage[${i}].usedGiB.${n}`, `"${n}" is not one of this pool's nodes`);
    }
  });
  const checkStorage = (field: string, id: string, content: string, node?: string) => {
    const pool = storageById.get(id);
    if (!pool) return add(field, `unknown storage "${id}" (storage: ${[...storageById.keys()].join(", ")})`);
    if (!pool.content.includes(content as never))
      add(field, `storage "${id}" does not hold ${content} content (it holds ${pool.content.join(", ")})`);
    if (node && !pool.nodes.includes(node))
      add(field, `storage "${id}" is not available on ${node} (only on ${pool.nodes.join(", ")})`);
  };

  const { lan, dmz } = config.networks;
  if (!cidrContains(lan.cidr, lan.gateway)) add("networks.lan.gateway", `${lan.gateway} is outside ${lan.cidr}`);
  if (!cidrContains(dmz.cidr, dmz.gateway)) add("networks.dmz.gateway", `${dmz.gateway} is outside ${dmz.cidr}`);

  // HA
  const ha = config.ha;
  const expectedMode = config.proxmox.majorVersion >= 9 ? "rule" : "group";
  if (ha.mode !== expectedMode) {
    add(
      "ha.mode",
      `PVE ${config.proxmox.majorVersion} uses HA ${expectedMode}s, not ${ha.mode}s (HA groups were replaced by rules in PVE 9)`,
    );
  }
  const haNodes = Object.keys(ha.nodes);
  if (haNodes.length === 0) add("ha.nodes", "needs at least one node");
  haNodes.forEach((n) => checkNode(`ha.nodes.${n}`, n));

  // Customers
  const pools = config.customerPools;
  if (pools.vmids.first > pools.vmids.last)
    add("customerPools.vmids", `first (${pools.vmids.first}) is above last (${pools.vmids.last})`);
  if (ipToInt(pools.ips.first) > ipToInt(pools.ips.last))
    add("customerPools.ips", `first (${pools.ips.first}) is above last (${pools.ips.last})`);
  for (const end of ["first", "last"] as const) {
    if (!cidrContains(lan.cidr, pools.ips[end]))
      add(`customerPools.ips.${end}`, `${pools.ips[end]} is outside the LAN ${lan.cidr}`);
  }
  const customerStorage = storageById.get(pools.storage);
  checkStorage("customerPools.storage", pools.storage, "rootdir");
  if (customerStorage) {
    for (const n of haNodes) {
      if (!customerStorage.nodes.includes(n))
        add(
          `ha.nodes.${n}`,
          `HA node ${n} does not have the customer storage "${pools.storage}", so a container could not fail over to it`,
        );
    }
  }
  for (const [kind, r] of Object.entries(pools.bounds)) {
    if (r.first > r.last) add(`customerPools.bounds.${kind}`, `first (${r.first}) is above last (${r.last})`);
  }
  if (Object.keys(config.plans).length === 0) add("plans", "needs at least one plan");
  else if (!config.plans[config.defaultPlan])
    add("defaultPlan", `"${config.defaultPlan}" is not one of the plans (${Object.keys(config.plans).join(", ")})`);
  for (const [name, plan] of Object.entries(config.plans)) {
    for (const kind of ["cores", "memoryMiB", "diskGiB"] as const) {
      const r = pools.bounds[kind];
      if (plan[kind] < r.first || plan[kind] > r.last)
        add(`plans.${name}.${kind}`, `${plan[kind]} is outside customerPools.bounds.${kind} (${r.first}-${r.last})`);
    }
  }

  // Templates
  const tpl = config.lxcTemplate;
  tpl.nodes.forEach((n, j) => {
    checkNode(`lxcTemplate.nodes[${j}]`, n);
    checkStorage(`lxcTemplate.storage`, tpl.storage, "vztmpl", n);
  });
  for (const n of customerStorage?.nodes ?? []) {
    if (!tpl.nodes.includes(n)) add("lxcTemplate.nodes", `customer node ${n} needs the LXC template too`);
  }
  tpl.present.forEach((n, j) => {
    if (!tpl.nodes.includes(n)) add(`lxcTemplate.present[${j}]`, `"${n}" is not one of lxcTemplate.nodes`);
  });

  // Infrastructure guests
  const vmids = new Map<number, string>();
  const infraNames = new Set<string>();
  let routers = 0;
  config.guests.forEach((g, i) => {
    const other = vmids.get(g.vmid);
    if (other) add(`guests[${i}].vmid`, `VMID ${g.vmid} is already used by ${other}`);
    vmids.set(g.vmid, g.name);
    if (infraNames.has(g.name)) add(`guests[${i}].name`, `duplicate guest name "${g.name}"`);
    infraNames.add(g.name);
    checkNode(`guests[${i}].node`, g.node);
    if (!g.adopt && g.tags && g.tags.length > 0)
      add(
        `guests[${i}].tags`,
        "a guest the program creates cannot have tags: PVE checks tags on /vms/<vmid> alone at creation, before the guest joins the pool the infrastructure token's grant is on (a 403); only adopted guests keep tags",
      );
    if (g.vmid >= pools.vmids.first && g.vmid <= pools.vmids.last) {
      add(
        `guests[${i}].vmid`,
        `VMID ${g.vmid} lies inside the customer range ${pools.vmids.first}-${pools.vmids.last}`,
      );
    }
    if (g.kind === "vm-template") {
      checkStorage(`guests[${i}].disk.storage`, g.disk.storage, "images", g.node);
      const imagePool = storageById.get(g.image.storage);
      if (!imagePool) add(`guests[${i}].image.storage`, `unknown storage "${g.image.storage}"`);
      else if (!imagePool.content.includes("import") && !imagePool.content.includes("iso"))
        add(`guests[${i}].image.storage`, `storage "${g.image.storage}" holds neither import nor iso content`);
      return;
    }
    const nodeCfg = config.nodes.find((n) => n.name === g.node);
    if (nodeCfg && g.cores > nodeCfg.cores)
      add(`guests[${i}].cores`, `${g.cores} cores do not fit on ${g.node} (${nodeCfg.cores} cores)`);
    if (nodeCfg && g.memoryMiB > nodeCfg.memoryMiB)
      add(`guests[${i}].memoryMiB`, `${g.memoryMiB} MiB do not fit on ${g.node} (${nodeCfg.memoryMiB} MiB)`);
    if (g.disk)
      checkStorage(`guests[${i}].disk.storage`, g.disk.storage, g.kind === "vm" ? "images" : "rootdir", g.node);
    if (g.kind === "container") {
      if (g.router) routers++;
      for (const p of routerRuleProblems(g)) add(`guests[${i}].${p.field}`, p.message);
    }
  });
  if (routers > 1) add("guests", `${routers} containers are marked router; there is one router`);

  // Backups. Customer containers have a job each (customerBackups): no other job may back them up too.
  const customerNodes = storageById.get(pools.storage)?.nodes ?? [];
  config.backupJobs.forEach((job, i) => {
    if (job.node) checkNode(`backupJobs[${i}].node`, job.node);
    checkStorage(`backupJobs[${i}].storage`, job.storage, "backup", job.node);
    if (job.pool === pools.proxmoxPool)
      add(
        `backupJobs[${i}].pool`,
        `"${job.pool}" is the customer pool: customer containers are backed up by their own jobs (customerBackups), so backups would run twice`,
      );
    const doubled = job.node ? customerNodes.filter((n) => n === job.node) : customerNodes;
    if (!job.pool && doubled.length > 0)
      add(
        `backupJobs[${i}].pool`,
        `job ${job.id} backs up every guest of ${doubled.join(" and ")}, where customer containers live and have backup jobs of their own (customerBackups): backups would run twice; select the infrastructure guests (pool: infrastructure)`,
      );
  });
  const target = storageById.get(config.customerBackups.storage);
  checkStorage("customerBackups.storage", config.customerBackups.storage, "backup");
  const unreachable = customerNodes.filter((n) => target && !target.nodes.includes(n));
  if (unreachable.length > 0)
    add(
      "customerBackups.storage",
      `storage "${target!.id}" is not available on ${unreachable.join(", ")}, where customer containers live (only on ${target!.nodes.join(", ")})`,
    );

  if (Object.keys(config.cloudflare.zones).length === 0) add("cloudflare.zones", "needs at least one zone");
  return problems;
}
