import {
  addEntry,
  type CustomerListEntry,
  type RunTotals,
  type SnapshotWriter,
} from '../domain/snapshotWriter';
import type { LeaseKeeper } from './leaseKeeper';

/**
 * Finished customers (written or failed) waiting to be checkpointed as rows of the run's list
 * partition. A flush writes them and renews the lease with the new totals, holding the lease
 * exclusively, so a resumed invocation redoes at most the customers finished since the last one.
 */
export class CheckpointBuffer {
  private entries: CustomerListEntry[] = [];
  private lastFlush = Date.now();

  constructor(
    private readonly writer: Pick<SnapshotWriter, 'recordCustomers'>,
    private readonly lease: Pick<LeaseKeeper, 'renew'>,
    private readonly runId: string,
    /** The run's totals so far; a flush adds what it writes. */
    readonly totals: RunTotals,
    private readonly options: { batch: number; intervalMs: number },
  ) {}

  add(entry: CustomerListEntry): void {
    this.entries.push(entry);
  }

  /** A full batch is waiting, or the last flush is older than the interval. */
  get due(): boolean {
    return (
      this.entries.length >= this.options.batch || Date.now() - this.lastFlush >= this.options.intervalMs
    );
  }

  /** Writes what is waiting (nothing once the lease is lost); a storage error is thrown. */
  flush(): Promise<void> {
    return this.lease.renew(async () => {
      if (this.entries.length === 0) return undefined;
      const entries = this.entries;
      this.entries = [];
      this.lastFlush = Date.now();
      await this.writer.recordCustomers(this.runId, entries);
      for (const e of entries) addEntry(this.totals, { ...e });
      return { counts: { ...this.totals } };
    });
  }
}
