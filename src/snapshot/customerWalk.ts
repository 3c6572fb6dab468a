import PQueue from 'p-queue';
import { errorCode } from '../domain/errors';
import type { CustomerMonthlyUsageRecord } from '../domain/usage';
import type { Logger } from '../observability/logger';
import type { CallOptions } from '../partnerCenter/partnerCenterClient';
import { isStorageUnavailable } from '../storage/errors';
import type { SnapshotWriter, TakenCustomers } from '../domain/snapshotWriter';
import type { CheckpointBuffer } from './checkpointBuffer';
import {
  snapshotCustomer,
  type CarryOverPolicy,
  type CustomerProgress,
  type SnapshotPartnerCenter,
} from './customerSnapshot';
import { failureOf } from './failures';

/** Errors that end the whole run at once: no customer can succeed while they hold. */
const RUN_FATAL = new Set(['ReconsentRequired', 'TokenRequestFailed']);

export interface CustomerWalkInput {
  partnerCenter: SnapshotPartnerCenter;
  writer: Pick<
    SnapshotWriter,
    | 'beginCustomer'
    | 'writeSubscription'
    | 'commitCustomer'
    | 'carryOverCustomer'
    | 'discardCustomer'
    | 'markCustomerKnown'
    | 'probe'
  >;
  logger: Logger;
  /** Properties every log line and event of the run carries. */
  log: Record<string, unknown>;
  runId: string;
  /** Incremental runs: when a customer's last snapshot is carried over. Absent: a full run. */
  carryOver?: CarryOverPolicy;
  /** The billing period start of the run's partner summary, kept with each customer written. */
  periodStart?: string;
  /** Carries the run's correlation id and `stop.signal`. */
  call: CallOptions;
  /** Customers the run has already finished; the walk takes the rest. */
  taken: TakenCustomers;
  checkpoints: CheckpointBuffer;
  concurrency: number;
  /** No customer is taken after this (epoch ms); in-flight ones get `graceMs` more, then are cancelled. */
  deadline: number;
  graceMs: number;
  now: () => Date;
  /** Aborted by the walk on a run-fatal or storage error, and by the caller on a lost lease or shutdown. */
  stop: AbortController;
}

export interface WalkResult {
  /** Customers remain: the deadline passed or the invocation was stopped. */
  stoppedEarly: boolean;
  /** An error that fails the run (ReconsentRequired, TokenRequestFailed). */
  fatal?: unknown;
  /** The customers list itself could not be read to its end. */
  listError?: unknown;
  /** Storage failed under a customer or a checkpoint: the invocation ends, the run resumes later. */
  storageError?: unknown;
}

/**
 * Streams the customers list and snapshots each customer not yet taken, `concurrency` at a time,
 * reading the list no further ahead than a free slot. Each finished customer (written or failed)
 * goes to the checkpoint buffer; a cancelled one does not, so a later invocation redoes it.
 */
export async function walkCustomers(input: CustomerWalkInput): Promise<WalkResult> {
  const { stop, logger, log } = input;
  const result: WalkResult = { stoppedEarly: false };
  const queue = new PQueue({ concurrency: input.concurrency });
  const hardStop = setTimeout(() => stop.abort(), Math.max(0, input.deadline + input.graceMs - Date.now()));
  hardStop.unref?.();

  const halt = (kind: 'fatal' | 'storageError', error: unknown) => {
    result[kind] ??= error;
    stop.abort();
  };
  const step = async (record: CustomerMonthlyUsageRecord) => {
    const outcome = await snapshotOne(input, record);
    if (outcome.kind === 'cancelled') return;
    if (outcome.kind !== 'finished') return halt(outcome.kind, outcome.error);
    input.checkpoints.add(outcome.entry);
    if (input.checkpoints.due)
      await input.checkpoints.flush().catch((error: unknown) => halt('storageError', error));
  };

  try {
    for await (const record of input.partnerCenter.listCustomerUsageRecords(input.call)) {
      const status = input.taken.status(record.customerId);
      if (status === 'invalidId') {
        logger.event('CustomerSnapshotFailed', { ...log, customerId: record.customerId, code: 'InvalidKey' });
        continue;
      }
      if (status === 'taken') continue;
      if (stop.signal.aborted) break;
      if (Date.now() >= input.deadline) {
        result.stoppedEarly = true;
        break;
      }
      // Taken now: a customer listed twice in one stream is snapshotted once.
      input.taken.take(record.customerId);
      queue.add(() => step(record)).catch((error: unknown) => halt('storageError', error));
      if (queue.size > 0) await queue.onEmpty();
    }
  } catch (error) {
    if (!stop.signal.aborted) result.listError = error;
  }
  await queue.onIdle();
  clearTimeout(hardStop);
  return result;
}

type CustomerOutcome =
  | { kind: 'finished'; entry: Parameters<CheckpointBuffer['add']>[0] }
  | { kind: 'cancelled' }
  | { kind: 'fatal' | 'storageError'; error: unknown };

/** One customer, to a checkpoint entry (written or failed), or the reason it must not be checkpointed. */
async function snapshotOne(
  input: CustomerWalkInput,
  record: CustomerMonthlyUsageRecord,
): Promise<CustomerOutcome> {
  const { writer, runId } = input;
  const progress: CustomerProgress = { subscriptionsSeen: 0, subscriptionsWritten: 0, resourcesWritten: 0 };
  let takenAt = input.now();
  try {
    let carriedOver: boolean;
    ({ takenAt, carriedOver } = await snapshotCustomer(
      { partnerCenter: input.partnerCenter, writer, now: () => takenAt },
      { runId, record, call: input.call, carryOver: input.carryOver, periodStart: input.periodStart },
      progress,
    ));
    return {
      kind: 'finished',
      entry: {
        record,
        takenAt,
        outcome: 'written',
        carriedOver,
        subscriptionsWritten: progress.subscriptionsWritten,
        resourcesWritten: progress.resourcesWritten,
        subscriptionsFailed: 0,
      },
    };
  } catch (error) {
    // Cancelled (budget, shutdown, lost lease): not checkpointed, so a later invocation redoes it.
    if (input.stop.signal.aborted) return { kind: 'cancelled' };
    if (RUN_FATAL.has(errorCode(error) ?? '')) return { kind: 'fatal', error };
    // Storage down or silent is not this customer's fault: end the invocation as when a
    // checkpoint cannot be written. Not checkpointed, so the resumed run redoes it. But when
    // storage answers a probe straight after, the 5xx was about this customer's data (Azurite
    // answers 500 to some of it), and ending the invocation would only meet it again on resume.
    if (isStorageUnavailable(error) && !(await answers(writer))) return { kind: 'storageError', error };
    const failure = failureOf(error);
    input.logger.event('CustomerSnapshotFailed', { ...input.log, customerId: record.customerId, ...failure });
    try {
      await writer.markCustomerKnown(record.customerId, runId, takenAt);
    } catch (markError) {
      input.logger.warn('Could not record a failed customer as known', { ...input.log, error: markError });
    }
    return {
      kind: 'finished',
      entry: {
        record,
        takenAt,
        outcome: 'failed',
        subscriptionsWritten: 0,
        resourcesWritten: 0,
        subscriptionsFailed: progress.subscriptionsSeen,
        failure,
      },
    };
  }
}

const answers = (writer: Pick<SnapshotWriter, 'probe'>) =>
  writer.probe().then(
    () => true,
    () => false,
  );
