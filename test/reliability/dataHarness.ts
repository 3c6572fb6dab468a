import { memoryLogger } from '../../src/observability/logger';
import type { SnapshotDependencies } from '../../src/snapshot/runSnapshot';
import { azuriteConnectionString } from '../support/tables';
import {
  startScriptedPartnerCenter,
  type ScriptedPartnerCenter,
  type ScriptedTenant,
} from './scriptedPartnerCenter';
import { storeOver, type Store } from './support';

/** A scripted Partner Center, a store over fresh tables, and the snapshot's dependencies over both. */
export interface DataHarness {
  pc: ScriptedPartnerCenter;
  store: Store;
  logger: ReturnType<typeof memoryLogger>;
  deps(overrides?: Partial<SnapshotDependencies>): SnapshotDependencies;
  close(): Promise<void>;
}

export async function startDataHarness(tenant: ScriptedTenant): Promise<DataHarness> {
  const pc = await startScriptedPartnerCenter(tenant);
  const store = await storeOver(azuriteConnectionString());
  const logger = memoryLogger();
  return {
    pc,
    store,
    logger,
    deps: (overrides = {}) => ({
      partnerCenter: pc.client(),
      store,
      logger,
      settings: { timeBudgetMs: 30_000, customerConcurrency: 4 },
      leaseTtlMs: 3_000,
      checkpointIntervalMs: 100,
      ...overrides,
    }),
    close: () => pc.close(),
  };
}
