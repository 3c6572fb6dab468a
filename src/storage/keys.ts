import { createHash, randomBytes } from 'node:crypto';
import { MAX_KEY_CHARS, InvalidKeyError } from './tableLimits';

/**
 * Every PartitionKey and RowKey the adapter writes is built here (see docs/internals.md, "Data model").
 * Ids from Partner Center are GUIDs; they are lower-cased so lookups are case-insensitive, and any
 * character Table Storage forbids in keys (or '%') is percent-encoded so no id can break a key. A
 * '.' is encoded too: a view's part rows are `{rowKey}.pNNN` (viewDocument.ts), so an id ending a
 * view's RowKey must never end like one (a hostile `<id>.p001` would land on `<id>`'s part row).
 */
// Table Storage forbids these in keys ('%' is the escape character, '.' starts a part suffix).
// eslint-disable-next-line no-control-regex
const KEY_UNSAFE = /[/\\#?%.\u0000-\u001f\u007f-\u009f]/g;

export function keyPart(id: string): string {
  const encoded = id
    .toLowerCase()
    .replace(KEY_UNSAFE, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (encoded.length === 0) throw new InvalidKeyError('an id used in a key is empty');
  if (encoded.length > MAX_KEY_CHARS - 64)
    throw new InvalidKeyError(`an id used in a key has ${encoded.length} characters; too long for a key`);
  return encoded;
}

const MAX_MS = 9_999_999_999_999;

/** Newest-first ordering: RowKeys holding this sort ascending as time goes backwards. */
export function invertedTime(ms: number): string {
  return String(MAX_MS - Math.max(0, Math.min(MAX_MS, Math.floor(ms)))).padStart(13, '0');
}

/**
 * A run id carries its creation time ("20250315T120000123Z-1a2b3c4d") so the run's RowKey
 * (inverted time, newest first) can be derived from the id alone.
 */
export function newRunId(now: Date): string {
  const compact = now.toISOString().replace(/[-:.]/g, '');
  return `${compact}-${randomBytes(4).toString('hex')}`;
}

export function runIdTime(runId: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-[0-9a-f]{8}$/.exec(runId);
  if (!m) return undefined;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]);
}

export function isRunId(value: string): boolean {
  return runIdTime(value) !== undefined;
}

export const RUNS_PARTITION = 'runs';
export const LEASE_ROW = '~lease';
export function runRowKey(runId: string): string {
  const ms = runIdTime(runId);
  if (ms === undefined) throw new InvalidKeyError(`"${runId}" is not a run id`);
  return `${invertedTime(ms)}_${runId}`;
}

/** The latest view of a partition: a header row `view` plus `view.pNNN` parts when it is large. */
export const VIEW_ROW = 'view';

export const PARTNER_PARTITION = 'partner';
export const customerPartition = (customerId: string) => `c_${keyPart(customerId)}`;
/** The customer partition for a run-list RowKey (already a key part). */
export const customerPartitionOfKey = (customerKey: string) => `c_${customerKey}`;

/**
 * A customer's parts (one per subscription: its resources, or an Azure plan's meters, resources and
 * Azure subscriptions) live in the customer's own partition, in one of two slots: a run writes the
 * slot the customer's view does not name, then flips the view to it (see docs/internals.md, "A
 * customer flips as one").
 * `x_` sorts after `view~`, so neither the view range nor history's (`h_` … `view`) holds a part.
 */
export type PartSlot = 'a' | 'b';
export const PART_PREFIX = 'x_';
export const subscriptionPartRow = (subscriptionId: string, slot: PartSlot) =>
  `${PART_PREFIX}s_${keyPart(subscriptionId)}_${slot}`;
export const runListPartition = (runId: string) => `run_${runId}`;

/**
 * A customer's budget changes made through the API, apart from its snapshot partition so that no
 * run or retention ever touches them: the changed budget (`budget`) and one row per change.
 */
export const budgetPartition = (customerId: string) => `b_${keyPart(customerId)}`;
export const BUDGET_ROW = 'budget';
export const BUDGET_CHANGE_PREFIX = 'ch_';
export const budgetChangeRowKey = (requestedAtMs: number, changeId: string) =>
  `${BUDGET_CHANGE_PREFIX}${invertedTime(requestedAtMs)}_${keyPart(changeId)}`;

export const HISTORY_PREFIX = 'h_';
export const historyRowKey = (takenAtMs: number, runId: string) =>
  `${HISTORY_PREFIX}${invertedTime(takenAtMs)}_${runId}`;
export const subscriptionHistoryPrefix = (subscriptionId: string) => `sh_${keyPart(subscriptionId)}_`;
export const subscriptionHistoryRowKey = (subscriptionId: string, takenAtMs: number, runId: string) =>
  `${subscriptionHistoryPrefix(subscriptionId)}${invertedTime(takenAtMs)}_${runId}`;

/**
 * RowKey bounds of history rows under `prefix` taken within [from, to]: the newest time is the
 * smallest key, so `to` gives the lower bound and `from` the upper.
 */
export function historyRange(prefix: string, from?: Date, to?: Date): { ge: string; le: string } {
  return {
    ge: to ? `${prefix}${invertedTime(to.getTime())}` : prefix,
    le: from ? `${prefix}${invertedTime(from.getTime())}_~` : `${prefix}~`,
  };
}

/**
 * A resource group's history rows under an Azure plan. Group names come from Partner Center and
 * may hold characters keys forbid, so the key holds a digest of the lower-cased name (fixed
 * length, stable across runs) and each row keeps the name itself as data; the Azure subscription
 * ends the RowKey, so one run has a point per Azure subscription holding a group of that name.
 */
export const resourceGroupHistoryPrefix = (subscriptionId: string, resourceGroup: string) =>
  `rh_${keyPart(subscriptionId)}_${digest(resourceGroup.toLowerCase())}_`;
export const resourceGroupHistoryRowKey = (
  subscriptionId: string,
  resourceGroup: string,
  azureSubscriptionId: string | undefined,
  takenAtMs: number,
  runId: string,
) =>
  `${resourceGroupHistoryPrefix(subscriptionId, resourceGroup)}${invertedTime(takenAtMs)}_${runId}_${digest((azureSubscriptionId ?? '').toLowerCase())}`;

/** 32 hex characters of SHA-256: a key-safe stand-in for text of any length and alphabet. */
function digest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 32);
}
