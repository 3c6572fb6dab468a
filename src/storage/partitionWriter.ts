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
  /** Of `roundTrips`, those of the run store (run records and the lease, its heartbeat included). */
  runStoreRoundTrips: number;
  transactions: number;
  entitiesWritten: number;
}

export function newTableMetrics(): TableMetrics {
  return { roundTrips: 0, runStoreRoundTrips: 0, transactions: 0, entitiesWritten: 0 };
}

function entityOf(action: TransactionAction): TableEntity {
  return action[1];
}

export function checkAction(action: TransactionAction): void {
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

  for (const batch of batches) await submit(table, metrics, batch);
}

async function submit(table: TableClient, metrics: TableMetrics, batch: TransactionAction[]): Promise<void> {
  metrics.roundTrips++;
  metrics.transactions++;
  await table.submitTransaction(batch);
  metrics.entitiesWritten += batch.filter((a) => a[0] !== 'delete').length;
}

/**
 * Actions for one partition gathered into transactions as they come: a transaction is sent when
 * the next action would not fit in it (100 operations, 4 MiB). Every action is checked against
 * Table Storage's limits when it is added, so a refused entity throws before anything of it is sent.
 */
export class PartitionBatch {
  private pending: TransactionAction[] = [];
  private bytes = 0;

  constructor(
    private readonly table: TableClient,
    private readonly metrics: TableMetrics,
  ) {}

  /** Adds actions, sending what is pending first whenever the next one would not fit. */
  async add(actions: readonly TransactionAction[]): Promise<void> {
    for (const action of actions) {
      checkAction(action);
      if (!this.fits([action])) await this.send();
      this.push(action);
    }
  }

  /**
   * Adds actions that belong together so they land in one transaction: what is pending is sent
   * first when they do not fit beside it. A group larger than one transaction is split as `add`
   * splits it.
   */
  async addTogether(actions: readonly TransactionAction[]): Promise<void> {
    for (const action of actions) checkAction(action);
    if (!this.fits(actions)) await this.send();
    if (!this.fits(actions)) return this.add(actions);
    for (const action of actions) this.push(action);
  }

  /** Whether `actions` still fit in the pending transaction. */
  fits(actions: readonly TransactionAction[]): boolean {
    const bytes = actions.reduce((sum, a) => sum + sizeOf(a), 0);
    return (
      this.pending.length + actions.length <= MAX_BATCH_OPERATIONS &&
      this.bytes + bytes <= MAX_BATCH_PAYLOAD_BYTES
    );
  }

  /** Adds one checked action to the pending transaction without sending (the caller made sure it fits). */
  push(action: TransactionAction): void {
    this.pending.push(action);
    this.bytes += sizeOf(action);
  }

  /** Sends the pending transaction, if any. */
  async send(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.bytes = 0;
    await submit(this.table, this.metrics, batch);
  }
}
