import type { Settings } from '../config/settings';
import type { Logger } from '../observability/logger';
import type { PartnerCenterClient } from '../partnerCenter/partnerCenterClient';
import type { UsageStore } from '../storage/tableUsageStore';
import type { RetentionDependencies } from './retention';
import type { SnapshotDependencies } from './runSnapshot';

/** The parts of the composition root the snapshot and retention use. */
export interface SnapshotRoot {
  settings: Settings;
  partnerCenter: PartnerCenterClient;
  usageStore: UsageStore;
}

/** Maps the composition root's parts onto what a snapshot invocation takes. */
export function snapshotDependencies(
  root: SnapshotRoot,
  logger: Logger,
  signal?: AbortSignal,
): SnapshotDependencies {
  return {
    partnerCenter: root.partnerCenter,
    store: root.usageStore,
    logger,
    settings: root.settings.snapshot,
    signal,
  };
}

export function retentionDependencies(root: SnapshotRoot, logger: Logger): RetentionDependencies {
  return { store: root.usageStore, logger, settings: root.settings.retention };
}
