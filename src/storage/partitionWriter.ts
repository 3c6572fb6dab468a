import type { TableClient, TableEntity, TransactionAction } from '@azure/data-tables';
import {
  assertEntityWithinLimits,
  EntityTooLargeError,
  MAX_BATCH_OPERATIONS,
  MAX_BATCH_PAYLOAD_BYTES,
  payloadBytes,
  type EntityLike,
} from './tableLimits';

/** Requests the adapter sent to Table Storage; benchmarks compare it with the ideal batch count. */
export interface TableMetrics {
  roundTrips: number;
  transactions: number;
  entitiesWritten: number;
}

export function newTableMetrics(): TableMetrics {
  return { roundTrips: 0, transactions: 0, entitiesWritten: 0 };
}

function entityOf(action: TransactionAction): TableEntity {
  return action[1];
}

function checkAction(action: TransactionAction): void {
  const entity = entityOf(action) as EntityLike;
  if (action[0] === 'delete') {
    // Keys only; still refuse a key the service would reject.
    assertEntityWithinLimits({ partitionKey: entity.partitionKey, rowKey: entity.rowKey });
  } else {
    assertEntityWithinLimits(entity);
  }
}

const sizeOf = (action: TransactionAction) => (action[0] === 'delete' ? 256 : payloadBytes(entityOf(action)));

/**
 * Writes actions that share one partition in as few entity-group transactions as the limits
 * allow (100 operations, 4 MiB). `atomic` actions all land in the last transaction, together
 * with as many of the trailing `leading` actions as fit: that transaction is what flips a view,
 * so readers see all of it or none of it. Leading actions go first, in order.
 */
export async function writePartition(
  table: TableClient,
  metrics: TableMetrics,
  leading: readonly TransactionAction[],
  atomic: readonly TransactionAction[] = [],
): Promise<void> {
  const all = [...leading, ...atomic];
  if (all.length === 0) return;
  const partitionKey = entityOf(all[0]).partitionKey;
  for (const action of all) {
    if (entityOf(action).partitionKey !== partitionKey)
      throw new Error('writePartition: every action must share one PartitionKey');
    checkAction(action);
  }
  const atomicBytes = atomic.reduce((sum, a) => sum + sizeOf(a), 0);
  if (atomic.length > MAX_BATCH_OPERATIONS || atomicBytes > MAX_BATCH_PAYLOAD_BYTES) {
    throw new EntityTooLargeError(
      `${partitionKey}: the view needs ${atomic.length} entities / ${atomicBytes} bytes, over one transaction's limits`,
    );
  }

  // The last transaction: the atomic group plus trailing leading actions that still fit.
  const last: TransactionAction[] = [...atomic];
  let lastBytes = atomicBytes;
  let split = leading.length;
  while (split > 0) {
    const candidate = leading[split - 1];
    const bytes = sizeOf(candidate);
    if (last.length + 1 > MAX_BATCH_OPERATIONS || lastBytes + bytes > MAX_BATCH_PAYLOAD_BYTES) break;
    last.unshift(candidate);
    lastBytes += bytes;
    split--;
  }
  const batches: TransactionAction[][] = [];
  let current: TransactionAction[] = [];
  let currentBytes = 0;
  for (const action of leading.slice(0, split)) {
    const bytes = sizeOf(action);
    if (
      current.length > 0 &&
      (current.length + 1 > MAX_BATCH_OPERATIONS || currentBytes + bytes > MAX_BATCH_PAYLOAD_BYTES)
    ) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(action);
    currentBytes += bytes;
  }
  if (current.length > 0) batches.push(current);
  batches.push(last);

  for (const batch of batches) {
    metrics.roundTrips++;
    metrics.transactions++;
    await table.submitTransaction(batch);
    metrics.entitiesWritten += batch.filter((a) => a[0] !== 'delete').length;
  }
}
