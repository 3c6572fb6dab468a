import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { createHash, randomBytes } from 'node:crypto';
import { DecimalSum } from '../domain/decimal';
import type {
  CustomerEntries,
  DailyUsageEntry,
  DailyUsageSource,
  ExportSource,
  FailedBlob,
  UsageExportRecord,
} from '../domain/dailyUsage';
import { isConflict, isNotFound, isPreconditionFailed } from './errors';
import { invertedTime, keyPart, runIdTime } from './keys';
import { PartitionBatch, writePartition, type TableMetrics } from './partitionWriter';
import type { EntityLike } from './tableLimits';
import type { TableClients } from './tableClients';
import { readViewRows, viewEntities, viewRange } from './viewDocument';

/**
 * The usage export's tables (see docs/internals.md, "Export tables"):
 * - `UsageExports`: PK `exports` holds one record per export (RowKey newest first); PK
 *   `x_{exportId}` holds the export's work: `u_{blob}` (a blob's URL, which carries the SAS),
 *   `b_{blob}` (the blob is done or failed, with its line counts) and `c_{customer}` (which
 *   blobs hold lines of the customer: one boolean property `bNNNNN` per blob).
 * - `UsageStaging`: PK `s_{exportId}_{blob}`, RowKey `{customer}` (+ `.pNNN`): one blob's
 *   aggregates of one customer. Written whole, again on a retry, so a blob never counts twice.
 * - `DailyUsage`: PK `c_{customer}`: `m_{YYYY-MM}` names the export and slot (`a`/`b`) the month
 *   shows; `r_{YYYY-MM}_{slot}_{dimension}` (+ `.pNNN`) the month's figures of one dimension,
 *   stamped with the version. PK `partner`: `p_{YYYY-MM}_{dimension}_{customer}`, each
 *   customer's committed figures for the partner-wide routes.
 */
export const EXPORT_TABLES = {
  exports: 'UsageExports',
  staging: 'UsageStaging',
  daily: 'DailyUsage',
} as const;

const EXPORTS_PARTITION = 'exports';
const PARTNER_PARTITION = 'partner';
const workPartition = (exportId: string) => `x_${exportId}`;
const stagingPartition = (exportId: string, blob: number) => `s_${exportId}_${blobKey(blob)}`;
const blobKey = (blob: number) => String(blob).padStart(5, '0');
const dailyPartition = (customerId: string) => `c_${keyPart(customerId)}`;
const monthRow = (month: string) => `m_${month}`;
/**
 * Dimensions in keys, encoded like ids (keyPart: so `tag:env.p001` never lands on a part row of
 * `tag:env`'s view); a long tag key is shortened to a hash, so it never breaks a key.
 */
function dimensionKey(dimension: string): string {
  return keyPart(dimension.length > 200 ? `tag:#${hash(dimension)}` : dimension);
}
const hash = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 16);
const figuresRow = (month: string, slot: Slot, dimension: string) =>
  `r_${month}_${slot}_${dimensionKey(dimension)}`;
const partnerRow = (month: string, dimension: string, customerKey: string) =>
  `p_${month}_${dimensionKey(dimension)}_${customerKey}`;

/**
 * The dimensions the partner-wide routes serve, copied to PK `partner` as each customer commits,
 * together with every tag dimension the customer's month has.
 */
const PARTNER_DIMENSIONS = ['total', 'subscription', 'resourceGroup', 'meterCategory', 'meter'] as const;
const isTag = (dimension: string) => dimension.startsWith('tag:');

/** A month header's list of dimensions (JSON text); [] when absent or unreadable. */
function dimensionList(value: unknown): string[] {
  try {
    const list: unknown = JSON.parse(String(value ?? '[]'));
    return Array.isArray(list) ? list.filter((d): d is string => typeof d === 'string') : [];
  } catch {
    return [];
  }
}

type Slot = 'a' | 'b';

/** An entry without its customer and month: [day, value, label, billingCurrency, billingTotal, pricingCurrency, pricingTotal, lines]. */
type Tuple = [string, string, string, string, string, string, string, number];
/** A staged customer: its months → dimension → tuples. */
type Staged = Record<string, Record<string, Tuple[]>>;

export interface BlobResult {
  linesRead: number;
  linesRejected: number;
  rejections: string[];
  /** Taken one customer at a time, each written before the next is asked for. */
  customers: Iterable<CustomerEntries>;
}

export interface BlobProgress {
  done: number;
  failed: FailedBlob[];
  linesRead: number;
  linesRejected: number;
}

export interface MergeOutcome {
  /** Months flipped to this export. */
  committed: string[];
  /**
   * The customer's rows for the partner-wide routes (PK `partner`), for the caller to write with
   * other customers' in full transactions (`writePartnerRows`) once their months are committed.
   */
  partnerRows: TransactionAction[];
  /** Months left as they are: they already show this export, or a billed one this unbilled one must not replace. */
  kept: string[];
}

export interface DailyFigures {
  sources: DailyUsageSource[];
  entries: DailyUsageEntry[];
}

export class TableUsageExportStore {
  private readonly exports: TableClient;
  private readonly staging: TableClient;
  private readonly daily: TableClient;

  constructor(
    private readonly tables: TableClients,
    readonly metrics: TableMetrics,
  ) {
    this.exports = tables.table(EXPORT_TABLES.exports);
    this.staging = tables.table(EXPORT_TABLES.staging);
    this.daily = tables.table(EXPORT_TABLES.daily);
  }

  private ensured: Promise<void> | undefined;

  /** Creates the tables that are missing (idempotent; once per process unless it fails). */
  ensureTables(): Promise<void> {
    this.ensured ??= this.createTables().catch((error: unknown) => {
      this.ensured = undefined;
      throw error;
    });
    return this.ensured;
  }

  private async createTables(): Promise<void> {
    await Promise.all(
      Object.values(EXPORT_TABLES).map(async (suffix) => {
        try {
          await this.tables.service.createTable(this.tables.tableName(suffix));
        } catch (error) {
          if (!isConflict(error)) throw error;
        }
      }),
    );
  }

  // ---- export records ------------------------------------------------------------------------

  async createExport(record: UsageExportRecord): Promise<void> {
    this.metrics.roundTrips++;
    await this.exports.createEntity(toEntity(record));
  }

  async getExport(exportId: string): Promise<{ record: UsageExportRecord; etag: string } | undefined> {
    try {
      this.metrics.roundTrips++;
      const row = await this.exports.getEntity<Record<string, unknown>>(
        EXPORTS_PARTITION,
        exportRowKey(exportId),
      );
      return { record: fromEntity(row), etag: row.etag };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Replaces the record; with `etag`, only if nobody changed it since (false when someone did). */
  async saveExport(record: UsageExportRecord, etag?: string): Promise<boolean> {
    try {
      this.metrics.roundTrips++;
      if (etag === undefined) await this.exports.upsertEntity(toEntity(record), 'Replace');
      else await this.exports.updateEntity(toEntity(record), 'Replace', { etag });
      return true;
    } catch (error) {
      if (isPreconditionFailed(error)) return false;
      throw error;
    }
  }

  /** Newest first; one query. */
  async listExports(limit: number): Promise<UsageExportRecord[]> {
    await this.ensureTables();
    const out: UsageExportRecord[] = [];
    this.metrics.roundTrips++;
    const pages = this.exports
      .listEntities<Record<string, unknown>>({
        queryOptions: { filter: odata`PartitionKey eq ${EXPORTS_PARTITION}` },
      })
      .byPage({ maxPageSize: limit });
    for await (const page of pages) {
      for (const row of page) if (out.length < limit) out.push(fromEntity(row));
      break;
    }
    return out;
  }

  // ---- a blob's work -------------------------------------------------------------------------

  /** The manifest's blob URLs (they hold the SAS, so they stay in storage, never in a message). */
  async saveBlobUrls(
    exportId: string,
    blobs: ReadonlyArray<{ index: number; name: string; url: string }>,
  ): Promise<void> {
    const pk = workPartition(exportId);
    await writePartition(
      this.exports,
      this.metrics,
      blobs.map((b) => [
        'upsert',
        { partitionKey: pk, rowKey: `u_${blobKey(b.index)}`, name: b.name, url: b.url },
        'Replace',
      ]),
    );
  }

  async getBlobUrl(exportId: string, index: number): Promise<{ name: string; url: string } | undefined> {
    try {
      this.metrics.roundTrips++;
      const row = await this.exports.getEntity<{ name: string; url: string }>(
        workPartition(exportId),
        `u_${blobKey(index)}`,
      );
      return { name: row.name, url: row.url };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Whether the blob is already recorded done or failed (a redelivered message then does nothing). */
  async blobFinished(exportId: string, index: number): Promise<boolean> {
    try {
      this.metrics.roundTrips++;
      await this.exports.getEntity(workPartition(exportId), `b_${blobKey(index)}`);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /**
   * Stores a read blob: each customer's aggregates in the blob's staging partition (replacing
   * what a crashed attempt left, so nothing counts twice), then, in its own partition, which
   * customers it holds and, last, the blob's `done` marker with its line counts. Customers are
   * taken one at a time and their rows go out in full transactions as they fill, so memory holds
   * one customer's rows and one transaction, never the blob's.
   */
  async saveBlobResult(exportId: string, index: number, name: string, result: BlobResult): Promise<void> {
    const spk = stagingPartition(exportId, index);
    const batch = new PartitionBatch(this.staging, this.metrics);
    const customerKeys: string[] = [];
    for (const { customerId, customerName, entries } of result.customers) {
      const ck = keyPart(customerId);
      customerKeys.push(ck);
      const rows = viewEntities(spk, { runId: exportId, customerId, customerName }, stage(entries), ck);
      await batch.add(rows.map((row): TransactionAction => ['upsert', row, 'Replace']));
    }
    await batch.send();
    const wpk = workPartition(exportId);
    const property = `b${blobKey(index)}`;
    await writePartition(
      this.exports,
      this.metrics,
      customerKeys.map((ck) => [
        'upsert',
        { partitionKey: wpk, rowKey: `c_${ck}`, [property]: true },
        'Merge',
      ]),
      [
        [
          'upsert',
          {
            partitionKey: wpk,
            rowKey: `b_${blobKey(index)}`,
            state: 'done',
            name,
            linesRead: result.linesRead,
            linesRejected: result.linesRejected,
            rejections: JSON.stringify(result.rejections).slice(0, 30_000),
          },
          'Replace',
        ],
      ],
    );
  }

  async markBlobFailed(exportId: string, index: number, name: string, reason: string): Promise<void> {
    this.metrics.roundTrips++;
    await this.exports.upsertEntity(
      {
        partitionKey: workPartition(exportId),
        rowKey: `b_${blobKey(index)}`,
        state: 'failed',
        name,
        reason: reason.slice(0, 1000),
      },
      'Replace',
    );
  }

  /**
   * Records a blob failed only if nothing is recorded for it yet (insert, never replace): a blob
   * already done or failed stays as it is. False when a marker was there.
   */
  async markBlobFailedIfUnrecorded(
    exportId: string,
    index: number,
    name: string,
    reason: string,
  ): Promise<boolean> {
    this.metrics.roundTrips++;
    try {
      await this.exports.createEntity({
        partitionKey: workPartition(exportId),
        rowKey: `b_${blobKey(index)}`,
        state: 'failed',
        name,
        reason: reason.slice(0, 1000),
      });
      return true;
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
  }

  /** The blobs recorded so far (one query of the export's `b_` rows). */
  async blobProgress(exportId: string): Promise<BlobProgress> {
    const progress: BlobProgress = { done: 0, failed: [], linesRead: 0, linesRejected: 0 };
    for await (const row of this.range(this.exports, workPartition(exportId), 'b_', 'b_~')) {
      const index = Number(String(row.rowKey).slice(2));
      if (row.state === 'done') {
        progress.done++;
        progress.linesRead += Number(row.linesRead ?? 0);
        progress.linesRejected += Number(row.linesRejected ?? 0);
      } else progress.failed.push({ index, name: String(row.name ?? ''), reason: String(row.reason ?? '') });
    }
    return progress;
  }

  /**
   * Deletes a finished export's staged rows (every blob's partition) and its work partition (the
   * blob URLs with their SAS, markers, customer index), 100 to a transaction. Its record stays.
   */
  async deleteExportWork(exportId: string, blobCount: number): Promise<number> {
    let deleted = 0;
    const clear = async (table: TableClient, pk: string) => {
      const keys: TransactionAction[] = [];
      this.metrics.roundTrips++;
      for await (const row of table.listEntities<Record<string, unknown>>({
        queryOptions: { filter: odata`PartitionKey eq ${pk}`, select: ['RowKey'] },
      }))
        keys.push(['delete', { partitionKey: pk, rowKey: String(row.rowKey) }]);
      await writePartition(table, this.metrics, keys);
      deleted += keys.length;
    };
    for (let blob = 0; blob < blobCount; blob++) await clear(this.staging, stagingPartition(exportId, blob));
    await clear(this.exports, workPartition(exportId));
    return deleted;
  }

  /** Indexes of the blobs recorded done. */
  async doneBlobIndexes(exportId: string): Promise<number[]> {
    const out: number[] = [];
    for await (const row of this.range(this.exports, workPartition(exportId), 'b_', 'b_~'))
      if (row.state === 'done') out.push(Number(String(row.rowKey).slice(2)));
    return out;
  }

  /** The export's customers after `after` (a customer key), in key order, with the blobs holding them. */
  async customersAfter(
    exportId: string,
    after: string | undefined,
    limit: number,
  ): Promise<Array<{ customerKey: string; blobs: number[] }>> {
    const out: Array<{ customerKey: string; blobs: number[] }> = [];
    const from = after === undefined ? 'c_' : `c_${after}\u0000`;
    this.metrics.roundTrips++;
    const pages = this.exports
      .listEntities<Record<string, unknown>>({
        queryOptions: {
          filter: odata`PartitionKey eq ${workPartition(exportId)} and RowKey ge ${from} and RowKey lt ${'c_~'}`,
        },
      })
      .byPage({ maxPageSize: limit });
    for await (const page of pages) {
      for (const row of page) {
        if (out.length >= limit) break;
        const blobs = Object.keys(row)
          .filter((k) => /^b\d{5}$/.test(k) && row[k] === true)
          .map((k) => Number(k.slice(1)));
        out.push({ customerKey: String(row.rowKey).slice(2), blobs });
      }
      break;
    }
    return out;
  }

  // ---- the merge: a customer flips to the export, month by month --------------------------------

  /**
   * Sums the customer's staged aggregates over the blobs that hold it and, for each month, writes
   * them to the slot the month's header does not name, then flips the header to it (conditional
   * on the header read, so two merges cannot interleave). Readers see the previous export's month
   * or this one's, never a mix. A month already showing this export is kept (a redelivered merge),
   * and so is a month a billed export filled, which an unbilled one must not replace.
   * The customer's partner-wide rows are returned (again on a redo), for the caller to write.
   */
  async mergeCustomer(
    record: UsageExportRecord,
    customerKey: string,
    blobs: readonly number[],
    committedAt: Date,
  ): Promise<MergeOutcome> {
    const months = new Map<
      string,
      Map<string, Map<string, { tuple: Tuple; billing: DecimalSum; pricing: DecimalSum }>>
    >();
    let customerId = customerKey;
    for (const blob of blobs) {
      const rows = await this.collect(
        this.staging,
        stagingPartition(record.exportId, blob),
        viewRange(customerKey),
      );
      const view = readViewRows<{ runId: string; customerId?: string }, Staged>(rows, customerKey);
      if (!view) continue;
      customerId = view.header.customerId ?? customerId;
      for (const [month, dimensions] of Object.entries(view.body)) {
        let perMonth = months.get(month);
        if (!perMonth) months.set(month, (perMonth = new Map()));
        for (const [dimension, tuples] of Object.entries(dimensions)) {
          let perDimension = perMonth.get(dimension);
          if (!perDimension) perMonth.set(dimension, (perDimension = new Map()));
          for (const t of tuples) {
            const key = `${t[0]}\u0001${t[1]}\u0001${t[3]}\u0001${t[5]}`;
            let sum = perDimension.get(key);
            if (!sum) {
              sum = { tuple: [...t], billing: new DecimalSum(), pricing: new DecimalSum() };
              sum.tuple[7] = 0;
              perDimension.set(key, sum);
            }
            sum.billing.add(t[4]);
            sum.pricing.add(t[6]);
            sum.tuple[7] += t[7];
            if (sum.tuple[2] === '' && t[2] !== '') sum.tuple[2] = t[2];
          }
        }
      }
    }
    const outcome: MergeOutcome = { committed: [], kept: [], partnerRows: [] };
    const pk = dailyPartition(customerId);
    const kind = record.source.kind;
    for (const [month, dimensions] of months) {
      const figures = new Map<string, Tuple[]>();
      for (const [dimension, sums] of dimensions)
        figures.set(
          dimension,
          [...sums.values()].map(({ tuple, billing, pricing }) => {
            const out: Tuple = [...tuple];
            out[4] = billing.toString();
            out[6] = pricing.toString();
            return out;
          }),
        );
      let header: Record<string, unknown> | undefined;
      try {
        this.metrics.roundTrips++;
        header = await this.daily.getEntity<Record<string, unknown>>(pk, monthRow(month));
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      if (header?.exportId === record.exportId || (header?.kind === 'billed' && kind === 'unbilled')) {
        outcome.kept.push(month);
      } else {
        const slot: Slot = header?.slot === 'a' ? 'b' : 'a';
        const version = `${record.exportId}.${randomBytes(4).toString('hex')}`;
        const leading: TransactionAction[] = [];
        for (const [dimension, tuples] of figures)
          for (const row of viewEntities(
            pk,
            { runId: record.exportId, version },
            tuples,
            figuresRow(month, slot, dimension),
          ))
            leading.push(['upsert', row, 'Replace']);
        const next: EntityLike = {
          partitionKey: pk,
          rowKey: monthRow(month),
          customerId,
          exportId: record.exportId,
          kind,
          slot,
          version,
          committedAt: committedAt.toISOString(),
          dimensions: JSON.stringify([...figures.keys()]),
          // Every tag whose partner-wide row this customer's month may hold: this export's and the
          // earlier ones', so a tag the customer dropped is emptied, on a redo too.
          partnerTags: JSON.stringify([
            ...new Set([
              ...[...figures.keys()].filter(isTag),
              ...dimensionList(header?.partnerTags ?? header?.dimensions).filter(isTag),
            ]),
          ]),
        };
        const flip: TransactionAction =
          header === undefined
            ? ['create', next]
            : ['update', next, 'Replace', { etag: header.etag as string }];
        await writePartition(this.daily, this.metrics, leading, [flip]);
        header = next;
        outcome.committed.push(month);
      }
      if (!outcome.kept.includes(month) || header?.exportId === record.exportId) {
        const tags = dimensionList(header?.partnerTags ?? header?.dimensions).filter(isTag);
        for (const dimension of [
          ...PARTNER_DIMENSIONS,
          ...new Set([...figures.keys()].filter(isTag).concat(tags)),
        ])
          for (const row of viewEntities(
            PARTNER_PARTITION,
            { runId: record.exportId, customerId },
            figures.get(dimension) ?? [],
            partnerRow(month, dimension, customerKey),
          ))
            outcome.partnerRows.push(['upsert', row, 'Replace']);
      }
    }
    return outcome;
  }

  /**
   * Writes partner-wide rows gathered from several customers' merges (one group per customer, as
   * `mergeCustomer` returns them), packed into full transactions without splitting a customer:
   * the partner-wide figures show each customer's export whole or not yet. Only a customer whose
   * rows exceed one transaction (100 entities, 4 MiB) is split, as it must be.
   */
  async writePartnerRows(groups: ReadonlyArray<readonly TransactionAction[]>): Promise<void> {
    const batch = new PartitionBatch(this.daily, this.metrics);
    for (const group of groups) await batch.addTogether(group);
    await batch.send();
  }

  // ---- reads -----------------------------------------------------------------------------------

  /**
   * A customer's figures of one dimension over the months [fromMonth, toMonth]: one query for the
   * month headers, then one per month for the dimension's rows (plus one for `total` when
   * `withTotal`, the tag routes' untagged remainder). All in the customer's partition.
   */
  async readCustomer(
    customerId: string,
    dimension: string,
    fromMonth: string,
    toMonth: string,
    withTotal = false,
  ): Promise<DailyFigures & { totals: DailyUsageEntry[] }> {
    await this.ensureTables();
    const pk = dailyPartition(customerId);
    const out = {
      sources: [] as DailyUsageSource[],
      entries: [] as DailyUsageEntry[],
      totals: [] as DailyUsageEntry[],
    };
    const headers = await this.collect(this.daily, pk, { ge: monthRow(fromMonth), le: monthRow(toMonth) });
    for (const header of headers) {
      const month = String(header.rowKey).slice(2);
      out.sources.push({
        month,
        exportId: String(header.exportId),
        committedAt: String(header.committedAt),
        kind: header.kind === 'billed' ? 'billed' : 'unbilled',
      });
      const wanted = withTotal && dimension !== 'total' ? [dimension, 'total'] : [dimension];
      for (const d of wanted) {
        const rowKey = figuresRow(month, header.slot as Slot, d);
        const rows = await this.collect(this.daily, pk, viewRange(rowKey));
        const view = readViewRows<{ runId: string; version?: string }, Tuple[]>(rows, rowKey);
        // A dimension this export did not have: the slot still holds an older version's row.
        if (!view || view.header.version !== header.version) continue;
        const target = d === dimension ? out.entries : out.totals;
        for (const t of view.body) target.push(fromTuple(customerId, d, t));
      }
    }
    return out;
  }

  /**
   * Every customer's committed figures of a dimension (any but a tag key longer than the key
   * allows reads exactly), partner-wide: one query per month, partition `partner`.
   */
  async readPartner(dimension: string, fromMonth: string, toMonth: string): Promise<DailyUsageEntry[]> {
    await this.ensureTables();
    const out: DailyUsageEntry[] = [];
    for (const month of monthsBetween(fromMonth, toMonth)) {
      const prefix = `p_${month}_${dimensionKey(dimension)}_`;
      const rows = await this.collect(this.daily, PARTNER_PARTITION, { ge: prefix, le: `${prefix}~` });
      const byRow = new Map<string, Array<Record<string, unknown>>>();
      for (const row of rows) {
        const base = String(row.rowKey).replace(/\.p\d{3}$/, '');
        let list = byRow.get(base);
        if (!list) byRow.set(base, (list = []));
        list.push(row);
      }
      for (const [base, list] of byRow) {
        const view = readViewRows<{ runId: string; customerId?: string }, Tuple[]>(list, base);
        if (!view) continue;
        const customerId = view.header.customerId ?? base.slice(prefix.length);
        // The prefix also covers a longer dimension ("tag:env" and "tag:env_x"): only exact rows count.
        if (base !== partnerRow(month, dimension, keyPart(customerId))) continue;
        for (const t of view.body ?? []) out.push(fromTuple(customerId, dimension, t));
      }
    }
    return out;
  }

  private async collect(
    table: TableClient,
    pk: string,
    range: { ge: string; le: string },
  ): Promise<Array<Record<string, unknown>>> {
    const rows: Array<Record<string, unknown>> = [];
    for await (const row of this.range(table, pk, range.ge, range.le)) rows.push(row);
    return rows;
  }

  private async *range(
    table: TableClient,
    pk: string,
    ge: string,
    le: string,
  ): AsyncIterable<Record<string, unknown>> {
    const pages = table
      .listEntities<Record<string, unknown>>({
        queryOptions: { filter: odata`PartitionKey eq ${pk} and RowKey ge ${ge} and RowKey le ${le}` },
      })
      .byPage();
    for await (const page of pages) {
      this.metrics.roundTrips++;
      yield* page;
    }
  }
}

function stage(entries: readonly DailyUsageEntry[]): Staged {
  const staged: Staged = {};
  for (const e of entries) {
    const month = e.day.slice(0, 7);
    const byDimension = (staged[month] ??= {});
    (byDimension[e.dimension] ??= []).push([
      e.day,
      e.value,
      e.label,
      e.billingCurrency,
      e.billingTotal,
      e.pricingCurrency,
      e.pricingTotal,
      e.lines,
    ]);
  }
  return staged;
}

function fromTuple(customerId: string, dimension: string, t: Tuple): DailyUsageEntry {
  return {
    customerId,
    dimension,
    day: t[0],
    value: t[1],
    label: t[2],
    billingCurrency: t[3],
    billingTotal: t[4],
    pricingCurrency: t[5],
    pricingTotal: t[6],
    lines: t[7],
  };
}

/** YYYY-MM months from `from` to `to`, inclusive. */
export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let [y, m] = from.split('-').map(Number);
  const [ty, tm] = to.split('-').map(Number);
  while (y < ty || (y === ty && m <= tm)) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    m++;
    if (m > 12) {
      m = 1;
      y++;
    }
  }
  return out;
}

function exportRowKey(exportId: string): string {
  const ms = runIdTime(exportId);
  if (ms === undefined) throw new Error(`"${exportId}" is not an export id`);
  return `${invertedTime(ms)}_${exportId}`;
}

function toEntity(r: UsageExportRecord): EntityLike {
  const entity: EntityLike = {
    partitionKey: EXPORTS_PARTITION,
    rowKey: exportRowKey(r.exportId),
    exportId: r.exportId,
    source: JSON.stringify(r.source),
    trigger: r.trigger,
    state: r.state,
    requestedAt: r.requestedAt,
    updatedAt: r.updatedAt,
    blobsDone: r.blobsDone,
    failedBlobs: JSON.stringify(r.failedBlobs).slice(0, 30_000),
    linesRead: r.linesRead,
    linesRejected: r.linesRejected,
    customersMerged: r.customersMerged,
  };
  for (const key of ['finishedAt', 'operationId', 'nextPollAt', 'blobCount', 'reason', 'cleanedAt'] as const)
    if (r[key] !== undefined) entity[key] = r[key];
  return entity;
}

function fromEntity(row: Record<string, unknown>): UsageExportRecord {
  const optional = (key: string) => (typeof row[key] === 'string' ? (row[key] as string) : undefined);
  return {
    exportId: String(row.exportId),
    source: JSON.parse(String(row.source)) as ExportSource,
    trigger: row.trigger === 'request' ? 'request' : 'schedule',
    state: row.state as UsageExportRecord['state'],
    requestedAt: String(row.requestedAt),
    updatedAt: String(row.updatedAt),
    finishedAt: optional('finishedAt'),
    operationId: optional('operationId'),
    nextPollAt: optional('nextPollAt'),
    blobCount: typeof row.blobCount === 'number' ? row.blobCount : undefined,
    blobsDone: Number(row.blobsDone ?? 0),
    failedBlobs: safeJson<FailedBlob[]>(row.failedBlobs, []),
    linesRead: Number(row.linesRead ?? 0),
    linesRejected: Number(row.linesRejected ?? 0),
    customersMerged: Number(row.customersMerged ?? 0),
    reason: optional('reason'),
    cleanedAt: optional('cleanedAt'),
  };
}

function safeJson<T>(value: unknown, fallback: T): T {
  try {
    return typeof value === 'string' ? (JSON.parse(value) as T) : fallback;
  } catch {
    return fallback;
  }
}
