import { Mutex } from 'async-mutex';
import type { Logger } from '../observability/logger';
import { LeaseLostError, type Lease, type RunPatch, type RunStore } from '../domain/runs';

export type LeaseRuns = Pick<RunStore, 'renewLease' | 'releaseLease' | 'finishRun'>;

/**
 * Keeps one invocation's lease on its run: renews it on a heartbeat (every third of its lifetime)
 * and with every checkpoint, and ends it with a release or the run's finish. Every change goes
 * through one mutex, because each renewal needs the ETag the previous one returned. When a renewal
 * finds the lease taken over, the keeper reports the loss once (`onLost`) and changes nothing more.
 */
export class LeaseKeeper {
  private readonly mutex = new Mutex();
  private heartbeat: NodeJS.Timeout | undefined;
  private isLost = false;

  constructor(
    private readonly runs: LeaseRuns,
    private lease: Lease,
    private readonly options: {
      ttlMs: number;
      logger: Logger;
      /** Properties every log line of this keeper carries (run id, correlation id). */
      log: Record<string, unknown>;
      /** Called once, when a renewal finds the lease taken over. */
      onLost: () => void;
    },
  ) {}

  /** True once the lease was taken over: this invocation must not write any more. */
  get lost(): boolean {
    return this.isLost;
  }

  /**
   * Renews the lease, saving `patch` on the run record in the same transaction. `patch` may be
   * work to do first while holding the lease exclusively (a checkpoint); when it returns
   * undefined, nothing is renewed. A lost lease is reported, not thrown; other errors are thrown.
   */
  renew(patch: RunPatch | (() => Promise<RunPatch | undefined>) = {}): Promise<void> {
    return this.mutex.runExclusive(async () => {
      if (this.isLost) return;
      const changes = typeof patch === 'function' ? await patch() : patch;
      if (changes === undefined) return;
      try {
        this.lease = await this.runs.renewLease(this.lease, this.options.ttlMs, changes);
      } catch (error) {
        if (!(error instanceof LeaseLostError)) throw error;
        this.isLost = true;
        this.options.logger.warn('Snapshot lease lost; this invocation stops writing', this.options.log);
        this.options.onLost();
      }
    });
  }

  /** Renews every third of the lease's lifetime until `stop`; a failed renewal is logged and retried on the next beat. */
  startHeartbeat(): void {
    this.heartbeat = setInterval(
      () => {
        this.renew().catch((error: unknown) => {
          this.options.logger.warn('Snapshot lease renewal failed; retried on the next heartbeat', {
            ...this.options.log,
            error,
          });
        });
      },
      Math.max(50, this.options.ttlMs / 3),
    );
    this.heartbeat.unref?.();
  }

  stop(): void {
    clearInterval(this.heartbeat);
  }

  /** Gives the lease up, leaving the run active for a later invocation. False when it was lost. */
  release(patch: RunPatch): Promise<boolean> {
    return this.end((lease) => this.runs.releaseLease(lease, patch));
  }

  /** Ends the run and frees the lease in one transaction. False when the lease was lost. */
  finish(patch: RunPatch & { state: 'succeeded' | 'partial' | 'failed' }): Promise<boolean> {
    return this.end((lease) => this.runs.finishRun(lease, patch));
  }

  private async end(change: (lease: Lease) => Promise<void>): Promise<boolean> {
    this.stop();
    await this.mutex.runExclusive(async () => {
      if (!this.isLost) await change(this.lease);
    });
    return !this.isLost;
  }
}
