import { odata, type TableClient } from '@azure/data-tables';
import { VIEW_ROW } from './keys';
import {
  entityBytes,
  MAX_CUSTOM_PROPERTIES,
  MAX_ENTITY_BYTES,
  MAX_STRING_CHARS,
  type EntityLike,
} from './tableLimits';

/**
 * A view (a customer's latest summary and subscriptions, a subscription's latest resources, …)
 * is one JSON document stored as a header row `view` plus, when it is too large for one entity,
 * part rows `view.p001`, `view.p002`, …. The JSON is cut into string properties of at most 32 K
 * characters (Table Storage's 64 KiB string limit), and each row stays under 1 MiB and 252
 * properties. All rows of a view are written in one transaction, so replacing a view is atomic.
 */
const PART_BYTES_TARGET = MAX_ENTITY_BYTES - 16 * 1024;
const CHUNK_PROPERTY = (i: number) => `d${String(i).padStart(3, '0')}`;
export const partRowKey = (part: number, rowKey = VIEW_ROW) => `${rowKey}.p${String(part).padStart(3, '0')}`;
/** The RowKey range of a view's rows: its header `rowKey` and its parts `rowKey.pNNN`. */
export const viewRange = (rowKey = VIEW_ROW) => ({ ge: rowKey, le: `${rowKey}.p~` });

/** Cuts text into pieces of at most `max` UTF-16 units, never between a surrogate pair. */
export function chunkText(text: string, max = MAX_STRING_CHARS): string[] {
  const chunks: string[] = [];
  let at = 0;
  while (at < text.length) {
    let end = Math.min(at + max, text.length);
    const code = text.charCodeAt(end - 1);
    if (end < text.length && code >= 0xd800 && code <= 0xdbff) end--;
    chunks.push(text.slice(at, end));
    at = end;
  }
  return chunks.length > 0 ? chunks : [''];
}

/**
 * JSON text safe in any Table request: U+2028 and U+2029 are written as their JSON escapes. They
 * are valid in JSON strings, but Azurite's batch parser takes them for line ends and refuses the
 * whole transaction; escaped, JSON.parse reads back exactly the same value.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

export interface ViewHeader {
  runId: string;
  /** Which write of the view this is, when a run may write it more than once (a customer's parts). */
  version?: string;
  [property: string]: unknown;
}

/** The rows of a view stored under `rowKey` (default `view`): the header first, then its parts. */
export function viewEntities(
  partitionKey: string,
  header: ViewHeader,
  body: unknown,
  rowKey = VIEW_ROW,
): EntityLike[] {
  const chunks = chunkText(jsonText(body));
  const rows: EntityLike[] = [];
  let current: EntityLike = { partitionKey, rowKey, ...header, parts: 0, chunks: chunks.length };
  const stamp = header.version === undefined ? {} : { version: header.version };
  let properties = Object.keys(current).length - 2;
  let size = entityBytes(current);
  let index = 0;
  for (const chunk of chunks) {
    const name = CHUNK_PROPERTY(index);
    const bytes = 8 + name.length * 2 + chunk.length * 2 + 4;
    if (properties + 1 > MAX_CUSTOM_PROPERTIES || size + bytes > PART_BYTES_TARGET) {
      rows.push(current);
      current = { partitionKey, rowKey: partRowKey(rows.length, rowKey), runId: header.runId, ...stamp };
      properties = Object.keys(current).length - 2;
      size = entityBytes(current);
      index = 0;
    }
    current[CHUNK_PROPERTY(index)] = chunk;
    properties++;
    size += bytes;
    index++;
  }
  rows.push(current);
  rows[0].parts = rows.length - 1;
  return rows;
}

export class CorruptViewError extends Error {
  readonly code = 'CorruptView';
}

/** Reassembles a view from the rows of its range (see `viewRange`); undefined when absent. */
export function readViewRows<H extends { runId: string }, B>(
  rows: ReadonlyArray<Record<string, unknown> & { partitionKey?: string; rowKey?: string }>,
  rowKey = VIEW_ROW,
): { header: H; body: B } | undefined {
  const header = rows.find((r) => r.rowKey === rowKey);
  if (!header) return undefined;
  const parts = Number(header.parts ?? 0);
  const pieces: string[] = [];
  const collect = (row: Record<string, unknown>) => {
    for (let i = 0; row[CHUNK_PROPERTY(i)] !== undefined; i++) pieces.push(String(row[CHUNK_PROPERTY(i)]));
  };
  collect(header);
  for (let p = 1; p <= parts; p++) {
    const row = rows.find((r) => r.rowKey === partRowKey(p, rowKey));
    // A part left over from an earlier, larger view has another runId (or version); a missing one is corruption.
    if (!row || row.runId !== header.runId || row.version !== header.version)
      throw new CorruptViewError(`${header.partitionKey}: view part ${p} missing`);
    collect(row);
  }
  const text = pieces.join('');
  return { header: header as unknown as H, body: (text === '' ? undefined : JSON.parse(text)) as B };
}

/** Reads a view's rows (header and parts) with one single-partition query over its range. */
export async function queryView<H extends { runId: string }, B>(
  table: TableClient,
  metrics: { roundTrips: number },
  partitionKey: string,
  rowKey = VIEW_ROW,
): Promise<{ header: H; body: B } | undefined> {
  const rows: Array<Record<string, unknown>> = [];
  const range = viewRange(rowKey);
  const pages = table
    .listEntities<Record<string, unknown>>({
      queryOptions: {
        filter: odata`PartitionKey eq ${partitionKey} and RowKey ge ${range.ge} and RowKey le ${range.le}`,
      },
    })
    .byPage({ maxPageSize: 1000 });
  for await (const page of pages) {
    metrics.roundTrips++;
    rows.push(...page);
  }
  return readViewRows<H, B>(rows, rowKey);
}
