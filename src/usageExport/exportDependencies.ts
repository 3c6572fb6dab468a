import fs from 'node:fs';
import path from 'node:path';
import type { Dependencies } from '../app/dependencies';
import type { Logger } from '../observability/logger';
import type { ExportPipeline } from './pipeline';

/** One merge invocation's share of the work; the Functions timeout (30 min) is far off. */
const MERGE_SLICE_MS = 5 * 60_000;

/** The app setting by which Azure overrides host.json's value (and so may a test). */
const OVERRIDE = 'AzureFunctionsJobHost__extensions__queues__maxDequeueCount';

/**
 * host.json `extensions.queues.maxDequeueCount` (default 5), read once: the blob handler records a
 * blob as failed on the attempt after which the host moves its message to the -poison queue.
 * host.json sits at the app's root, beside dist/ and src/; an app setting overrides it, as in Azure.
 */
let maxDequeue: number | undefined;
export function hostMaxDequeueCount(hostJson = path.join(__dirname, '..', '..', 'host.json')): number {
  if (maxDequeue !== undefined) return maxDequeue;
  let value: unknown = process.env[OVERRIDE] === undefined ? undefined : Number(process.env[OVERRIDE]);
  if (value === undefined)
    try {
      const parsed = JSON.parse(fs.readFileSync(hostJson, 'utf8')) as {
        extensions?: { queues?: { maxDequeueCount?: unknown } };
      };
      value = parsed.extensions?.queues?.maxDequeueCount;
    } catch {
      value = undefined;
    }
  maxDequeue = typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 5;
  return maxDequeue;
}

/** The pipeline's parts from the composition root; throws when no queue is configured. */
export function exportPipeline(root: Dependencies, logger: Logger): ExportPipeline {
  const queue = root.exportQueue;
  if (!queue)
    throw new Error('the usage export needs a queue: set QUEUE_STORAGE or QUEUE_STORAGE__queueServiceUri');
  return {
    client: root.usageExportClient(),
    store: root.usageExports,
    queue,
    now: () => new Date(),
    logger,
    currencyCode: root.settings.usageExport.currencyCode,
    maxDequeueCount: hostMaxDequeueCount(),
    mergeSliceMs: MERGE_SLICE_MS,
  };
}
