import { compareDecimal } from './decimal';
import type { CustomerMonthlyUsageRecord, Decimal } from './usage';

/**
 * overBudget: the customer has a budget and its total cost is above it, compared exactly on the
 * decimal strings (as Partner Center counts customersOverBudget); percentUsed is not used.
 */
export function isOverBudget(record: Pick<CustomerMonthlyUsageRecord, 'budget' | 'totalCost'>): boolean {
  if (record.budget === undefined) return false;
  return compareDecimal(record.totalCost, record.budget) === 1;
}

/**
 * Who changed a budget, as far as the request tells. The route is admin level, so the Functions
 * host let the caller in with the master key: the worker is not told which key (the host keeps its
 * key id claim to itself), so `key` is always `master`. With App Service Authentication in front
 * (`enableEntraAuth`), the platform sets the signed-in principal's headers and strips any a client
 * sent; without it they are the caller's word, so `principal.verified` says which.
 */
export interface BudgetActor {
  key: 'master';
  principal?: { id: string; name: string; identityProvider: string; verified: boolean };
}

/** A budget change as recorded: `pending` until Partner Center accepted it, then `applied`. */
export interface BudgetChange {
  /** A GUID; also the MS-CorrelationId of the Partner Center request, for support cases. */
  changeId: string;
  customerId: string;
  state: 'pending' | 'applied';
  requestedAt: string;
  /** When Partner Center's answer was recorded (applied changes). */
  appliedAt?: string;
  /** What the cache showed before: undefined when the customer had no budget (null in bodies). */
  oldAmount?: Decimal;
  /** What was asked for; undefined = remove the budget. */
  requestedAmount?: Decimal;
  /** What Partner Center answered it now has (applied changes); undefined = no budget. */
  newAmount?: Decimal;
  actor: BudgetActor;
}

/** The last budget set through the API, as the cache holds it. */
export interface ChangedBudget {
  amount?: Decimal;
  changedAt: string;
  changeId: string;
  /** The store's version of the row (its ETag), for a replace conditional on it. */
  version?: string;
}

/**
 * Budget changes made through the API and the audit trail of them (one partition per customer).
 * `begin` records a change before Partner Center is asked, so a change that Partner Center took
 * is never missing from the trail even when the process dies before `complete`.
 */
export interface BudgetStore {
  getChangedBudget(customerId: string): Promise<ChangedBudget | undefined>;
  begin(change: BudgetChange): Promise<void>;
  /**
   * Marks the change applied and makes it the customer's changed budget, in one transaction,
   * unless the changed budget is no longer `expected` (another change completed since it was
   * read): then only the change's record is written, and the answer is `superseded`.
   */
  complete(change: BudgetChange, expected: ChangedBudget | undefined): Promise<'committed' | 'superseded'>;
  /** Replaces the customer's changed budget, whatever it is. */
  setChangedBudget(customerId: string, budget: ChangedBudget): Promise<void>;
  /** Forgets a pending change Partner Center refused: nothing of it stays. */
  abandon(change: BudgetChange): Promise<void>;
  /** Newest first. */
  listChanges(
    customerId: string,
    query: { limit: number; continuationToken?: string },
  ): Promise<{ items: BudgetChange[]; continuationToken?: string }>;
}

/** The budget the cache shows: from the customer's snapshot, or a later change through the API. */
export interface EffectiveBudget {
  amount?: Decimal;
  source: 'snapshot' | 'change';
  /** The snapshot's takenAt, or the change's appliedAt. */
  asOf: string;
}

/**
 * A change made after the snapshot read the budget wins; a snapshot taken after the change read
 * Partner Center's budget as the change left it (or as someone changed it since in Partner Center).
 */
export function effectiveBudget(
  snapshot: { amount?: Decimal; takenAt: string } | undefined,
  changed: ChangedBudget | undefined,
): EffectiveBudget | undefined {
  if (changed && (!snapshot || Date.parse(changed.changedAt) >= Date.parse(snapshot.takenAt)))
    return { amount: changed.amount, source: 'change', asOf: changed.changedAt };
  return snapshot && { amount: snapshot.amount, source: 'snapshot', asOf: snapshot.takenAt };
}

/** What a budget change needs: the store, Partner Center's usagebudget PATCH, a clock and ids. */
export interface BudgetChangeDependencies {
  store: BudgetStore;
  partnerCenter: {
    setUsageBudget(
      customerId: string,
      amount: Decimal | null,
      options?: { correlationId?: string },
    ): Promise<{ amount?: Decimal }>;
    getUsageBudget(customerId: string, options?: { correlationId?: string }): Promise<{ amount?: Decimal }>;
  };
  now: () => Date;
  newId: () => string;
  /** A refused change whose pending record could not be removed (storage failing too). */
  onAbandonFailed?: (error: unknown, change: BudgetChange) => void;
  /** A superseded change whose re-read of Partner Center's budget failed. */
  onReconcileFailed?: (error: unknown, change: BudgetChange) => void;
}

/**
 * Sets a customer's budget in Partner Center and then in the cache, recording the change: pending
 * before the PATCH, applied (with Partner Center's answer) after it, in the same transaction that
 * updates the cached budget. A PATCH that fails changes nothing here: the pending record is
 * removed and the error goes to the caller. Racing changes for one customer: Partner Center keeps
 * the last PATCH it received, which need not be the last to complete here; so a change whose
 * commit finds the cached budget replaced since `expected` was read (another change completed in
 * between) asks Partner Center what it now holds and caches that. Repeating a change is safe.
 *
 * Answers the change as recorded and the changed budget as cached (undefined when a superseded
 * change could not re-read Partner Center: the other change's budget stays).
 */
export async function changeBudget(
  deps: BudgetChangeDependencies,
  input: {
    customerId: string;
    amount?: Decimal;
    oldAmount?: Decimal;
    actor: BudgetActor;
    /** The changed budget as read before (its version makes the commit conditional). */
    expected: ChangedBudget | undefined;
  },
): Promise<{ change: BudgetChange; budget?: ChangedBudget }> {
  const pending: BudgetChange = {
    changeId: deps.newId(),
    customerId: input.customerId,
    state: 'pending',
    requestedAt: deps.now().toISOString(),
    oldAmount: input.oldAmount,
    requestedAmount: input.amount,
    actor: input.actor,
  };
  const call = { correlationId: pending.changeId };
  await deps.store.begin(pending);
  let answer: { amount?: Decimal };
  try {
    answer = await deps.partnerCenter.setUsageBudget(input.customerId, input.amount ?? null, call);
  } catch (error) {
    await deps.store.abandon(pending).catch((cleanup: unknown) => deps.onAbandonFailed?.(cleanup, pending));
    throw error;
  }
  const change: BudgetChange = {
    ...pending,
    state: 'applied',
    appliedAt: deps.now().toISOString(),
    newAmount: answer.amount,
  };
  const budget: ChangedBudget = {
    amount: change.newAmount,
    changedAt: change.appliedAt as string,
    changeId: change.changeId,
  };
  if ((await deps.store.complete(change, input.expected)) === 'committed') return { change, budget };
  try {
    const held = await deps.partnerCenter.getUsageBudget(input.customerId, call);
    const reconciled: ChangedBudget = {
      amount: held.amount,
      changedAt: deps.now().toISOString(),
      changeId: change.changeId,
    };
    await deps.store.setChangedBudget(input.customerId, reconciled);
    return { change, budget: reconciled };
  } catch (error) {
    deps.onReconcileFailed?.(error, change);
    return { change };
  }
}
