import type { Settings } from '../config/settings';
import type { Logger } from '../observability/logger';
import type { SnapshotPartnerCenter } from './customerSnapshot';
import type { RetentionDependencies } from './retention';
import type { SnapshotDependencies } from './runSnapshot';

/** The parts of the composition root the snapshot and retention use. */
export interface SnapshotRoot {
  settings: Settings;
  partnerCenter: SnapshotPartnerCenter;
  usageStore: SnapshotDependencies['store'] & RetentionDependencies['store'];
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
 * Runs one snapshot invocation's `work`, and before it ends (whatever the outcome) gives a rotated
 * refresh token the secret store refused earlier one more write, so it is not lost with the
 * process (it stays in memory until then). Every entry that calls Partner Center goes through here.
 */
export async function withTokenFlush<T>(
  root: { partnerCenterTokens: { flushRotation(): Promise<boolean> } },
  logger: Logger,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } finally {
    await flushTokenRotation(root, logger);
  }
}

async function flushTokenRotation(
  root: { partnerCenterTokens: { flushRotation(): Promise<boolean> } },
  logger: Logger,
): Promise<void> {
  const flushed = await root.partnerCenterTokens.flushRotation().catch((error: unknown) => {
    logger.warn('Flushing the rotated Partner Center refresh token failed', { error });
    return false;
  });
  if (!flushed) {
    logger.warn('A rotated Partner Center refresh token is still unwritten; it is retried on the next call');
  }
}

export function retentionDependencies(root: SnapshotRoot, logger: Logger): RetentionDependencies {
  return { store: root.usageStore, logger, settings: root.settings.retention };
}
