import { odata, type TableClient, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import type { BudgetChange, BudgetStore, ChangedBudget } from '../domain/budget';
import { InvalidContinuationTokenError, isConflict, isNotFound, isPreconditionFailed } from './errors';
import { BUDGET_CHANGE_PREFIX, BUDGET_ROW, budgetChangeRowKey, budgetPartition } from './keys';
import { writePartition, type TableMetrics } from './partitionWriter';
import { isTableToken } from './tableUsageReader';
import { defined } from './usageTables';

type Row = TableEntityResult<Record<string, unknown>>;

/**
 * Budget changes over the Customers table, partition `b_{customerId}`: the changed budget in row
 * `budget`, each change in `ch_{invertedTime}_{changeId}` (newest first). Every read and write is
 * one point read, one single-partition query or one entity-group transaction.
 */
export class TableBudgetStore implements BudgetStore {
  constructor(
    private readonly table: TableClient,
    private readonly metrics: TableMetrics,
  ) {}

  async getChangedBudget(customerId: string): Promise<ChangedBudget | undefined> {
    this.metrics.roundTrips++;
    try {
      const row = await this.table.getEntity<Record<string, unknown>>(
        budgetPartition(customerId),
        BUDGET_ROW,
      );
      return defined({
        amount: text(row, 'amount'),
        changedAt: String(row.changedAt),
        changeId: String(row.changeId),
        version: row.etag,
      });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async begin(change: BudgetChange): Promise<void> {
    this.metrics.roundTrips++;
    await this.table.createEntity(changeEntity(change));
  }

  async complete(
    change: BudgetChange,
    expected: ChangedBudget | undefined,
  ): Promise<'committed' | 'superseded'> {
    const current = budgetEntity(change.customerId, {
      amount: change.newAmount,
      changedAt: change.appliedAt as string,
      changeId: change.changeId,
    });
    // Conditional on the row read before the PATCH: created if there was none, replaced if unchanged.
    const replace: TransactionAction =
      expected?.version === undefined
        ? ['create', current]
        : ['update', current, 'Replace', { etag: expected.version }];
    try {
      await writePartition(
        this.table,
        this.metrics,
        [],
        [['upsert', changeEntity(change), 'Replace'], replace],
      );
      return 'committed';
    } catch (error) {
      if (!isConflict(error) && !isPreconditionFailed(error)) throw error;
    }
    this.metrics.roundTrips++;
    await this.table.upsertEntity(changeEntity(change), 'Replace');
    return 'superseded';
  }

  async setChangedBudget(customerId: string, budget: ChangedBudget): Promise<void> {
    this.metrics.roundTrips++;
    await this.table.upsertEntity(budgetEntity(customerId, budget), 'Replace');
  }

  async abandon(change: BudgetChange): Promise<void> {
    this.metrics.roundTrips++;
    const { partitionKey, rowKey } = changeEntity(change);
    await this.table.deleteEntity(partitionKey, rowKey).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }

  async listChanges(
    customerId: string,
    query: { limit: number; continuationToken?: string },
  ): Promise<{ items: BudgetChange[]; continuationToken?: string }> {
    if (query.continuationToken !== undefined && !isTableToken(query.continuationToken))
      throw new InvalidContinuationTokenError('The continuation token is not one this service issued');
    const partitionKey = budgetPartition(customerId);
    const pages = this.table
      .listEntities<Record<string, unknown>>({
        queryOptions: {
          filter: odata`PartitionKey eq ${partitionKey} and RowKey ge ${BUDGET_CHANGE_PREFIX} and RowKey lt ${`${BUDGET_CHANGE_PREFIX}~`}`,
        },
      })
      .byPage({ maxPageSize: query.limit, continuationToken: query.continuationToken });
    const result = await pages.next();
    this.metrics.roundTrips++;
    if (result.done) return { items: [] };
    return defined({ items: result.value.map(changeOf), continuationToken: result.value.continuationToken });
  }
}

function budgetEntity(
  customerId: string,
  budget: ChangedBudget,
): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  return defined({
    partitionKey: budgetPartition(customerId),
    rowKey: BUDGET_ROW,
    amount: budget.amount,
    changedAt: budget.changedAt,
    changeId: budget.changeId,
  });
}

function changeEntity(
  change: BudgetChange,
): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  const { principal } = change.actor;
  return defined({
    partitionKey: budgetPartition(change.customerId),
    rowKey: budgetChangeRowKey(Date.parse(change.requestedAt), change.changeId),
    changeId: change.changeId,
    customerId: change.customerId,
    state: change.state,
    requestedAt: change.requestedAt,
    appliedAt: change.appliedAt,
    oldAmount: change.oldAmount,
    requestedAmount: change.requestedAmount,
    newAmount: change.newAmount,
    actorKey: change.actor.key,
    principalId: principal?.id,
    principalName: principal?.name,
    principalIdentityProvider: principal?.identityProvider,
    principalVerified: principal?.verified,
  });
}

function changeOf(row: Row): BudgetChange {
  const principalId = text(row, 'principalId');
  return defined({
    changeId: String(row.changeId),
    customerId: String(row.customerId),
    state: (row.state === 'applied' ? 'applied' : 'pending') as BudgetChange['state'],
    requestedAt: String(row.requestedAt),
    appliedAt: text(row, 'appliedAt'),
    oldAmount: text(row, 'oldAmount'),
    requestedAmount: text(row, 'requestedAmount'),
    newAmount: text(row, 'newAmount'),
    actor: {
      key: 'master' as const,
      ...(principalId === undefined
        ? {}
        : {
            principal: {
              id: principalId,
              name: text(row, 'principalName') ?? '',
              identityProvider: text(row, 'principalIdentityProvider') ?? '',
              verified: row.principalVerified === true,
            },
          }),
    },
  });
}

function text(row: Row, name: string): string | undefined {
  const value = row[name];
  return value === undefined || value === null ? undefined : String(value);
}
