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

/**
 * Before a snapshot invocation ends: a rotated refresh token the secret store refused earlier gets
 * one more write, so it is not lost with the process (it stays in memory until then).
 */
export async function flushTokenRotation(
  root: { partnerCenterTokens: { flushRotation(): Promise<boolean> } },
  logger: Logger,
): Promise<void> {
  const flushed = await root.partnerCenterTokens.flushRotation().catch(() => false);
  if (!flushed) {
    logger.warn('A rotated Partner Center refresh token is still unwritten; it is retried on the next call');
  }
}

export function retentionDependencies(root: SnapshotRoot, logger: Logger): RetentionDependencies {
  return { store: root.usageStore, logger, settings: root.settings.retention };
}
