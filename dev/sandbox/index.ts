export { startSandbox, type Sandbox } from './server';
export type { SandboxOptions, PagedCollection, PageSizes } from './options';
export type {
  AzurePlanProfile,
  AzurePlanUsage,
  EntitlementProfile,
  MeterUsage,
  PlanMeterProfile,
  PlanResourceProfile,
  PlanResourceUsage,
} from './azurePlan';
export { LONG_URI_CHARS } from './azurePlan';
export type { RateLimits } from './throttle';
export type { FaultKind, FaultSettings } from './faults';
export type { CounterSnapshot } from './counters';
export type { CustomerProfile, SubscriptionProfile, ResourceProfile, SandboxData } from './data';
export type { CustomerUsage, SubscriptionUsage, ResourceUsage, UsageMoment } from './usage';
export { customerUsage, subscriptionUsage, resourceUsage, usageMoment } from './usage';
export { formatDecimal } from './money';
export { SANDBOX_DEFAULTS } from './defaults';
export type { GraphFaults, GraphSettings, SandboxExport } from './graph';
export type { ExportLines } from './graphData';
