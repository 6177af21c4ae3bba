/**
 * The type tokens of the program's components (`<package>:<module>:<Type>`), each stated once: the
 * components register under them, and the plan, the diff, customer validation and the policy pack
 * recognize resources by them. Changing one changes the URN of the component and of every child:
 * it needs an alias (`aliases: [{ type: <old token> }]`) on the component.
 */
export const COMPONENT_TYPES = {
  automationAccess: "nodepoint:access:AutomationAccess",
  backupJobs: "nodepoint:backup:BackupJobs",
  clusterNodes: "nodepoint:cluster:ClusterNodes",
  customerIsolation: "nodepoint:customers:CustomerIsolation",
  haPlacement: "nodepoint:ha:HaPlacement",
  openWrtRouter: "nodepoint:network:OpenWrtRouter",
  serviceContainer: "nodepoint:guests:ServiceContainer",
  serviceVm: "nodepoint:guests:ServiceVm",
  storagePools: "nodepoint:storage:StoragePools",
  templates: "nodepoint:templates:Templates",
  wordPressSite: "nodepoint:customers:WordPressSite",
} as const;

export type ComponentName = keyof typeof COMPONENT_TYPES;
