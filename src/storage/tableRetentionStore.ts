import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { RetentionStore } from '../domain/snapshotWriter';
import {
  customerPartitionOfKey,
  HISTORY_PREFIX,
  PARTNER_PARTITION,
  runListPartition,
  VIEW_ROW,
} from './keys';
import { writePartition, type TableMetrics } from './partitionWriter';
import type { UsageTableName } from './usageTables';

/**
 * Deleting what an expired run left behind: its history points (customer, subscription and
 * partner totals) and its customers list. Rows are found by the run's id inside each partition
 * and deleted in transactions of up to 100. The RowKey range stops below `view`, so a latest view
 * is never touched, even one still written by the expired run.
 */
export class TableRetentionStore implements RetentionStore {
  constructor(
    private readonly tables: Record<UsageTableName, TableClient>,
    private readonly metrics: TableMetrics,
  ) {}

  /** Deletes run `runId`'s history rows and list rows; returns how many rows went. */
  async deleteRunData(runId: string): Promise<{ historyRows: number; listRows: number }> {
    let historyRows = await this.deleteHistoryIn(PARTNER_PARTITION, runId);
    let listRows = 0;
    const list = this.tables.customerLists
      .listEntities({
        queryOptions: { filter: odata`PartitionKey eq ${runListPartition(runId)}`, select: ['RowKey'] },
      })
      .byPage({ maxPageSize: 100 });
    for await (const page of list) {
      this.metrics.roundTrips++;
      for (const row of page)
        historyRows += await this.deleteHistoryIn(customerPartitionOfKey(row.rowKey as string), runId);
      const deletes = page.map((row): TransactionAction => [
        'delete',
        { partitionKey: runListPartition(runId), rowKey: row.rowKey as string },
      ]);
      await writePartition(this.tables.customerLists, this.metrics, deletes);
      listRows += deletes.length;
    }
    return { historyRows, listRows };
  }

  private async deleteHistoryIn(partitionKey: string, runId: string): Promise<number> {
    const keys: string[] = [];
    const rows = this.tables.customers.listEntities({
      queryOptions: {
        filter: odata`PartitionKey eq ${partitionKey} and RowKey ge ${HISTORY_PREFIX} and RowKey lt ${VIEW_ROW} and runId eq ${runId}`,
        select: ['RowKey'],
      },
    });
    for await (const page of rows.byPage({ maxPageSize: 1000 })) {
      this.metrics.roundTrips++;
      for (const row of page) keys.push(row.rowKey as string);
    }
    const deletes = keys.map((rowKey): TransactionAction => ['delete', { partitionKey, rowKey }]);
    await writePartition(this.tables.customers, this.metrics, deletes);
    return keys.length;
  }
}
