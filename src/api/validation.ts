import { CURRENCY_CODE, ISO_DATE, ISO_DATE_TIME, LOCALE } from '../domain/patterns';
import { ApiError, quote } from './errors';
import { DEFAULT_LIMIT, MAX_LIMIT } from './schemas';
import type { z } from 'zod';
import { formatParameter, guid } from './schemas';

/**
 * Strict reading of what a caller sends. Everything that passes is in a closed, harmless
 * alphabet (GUIDs, booleans, letters, digits, ISO dates), so nothing a caller sends could change
 * the meaning of a Table filter even before the storage adapter escapes it.
 */

/** The Functions host reads `code` as the function key; it is accepted on every route and ignored. */
const HOST_PARAMETERS = new Set(['code']);

/** A lower-cased GUID, or 400 with the given code. Braces and missing hyphens are not accepted. */
export function parseId(
  raw: string | undefined,
  code: 'InvalidCustomerId' | 'InvalidSubscriptionId',
): string {
  const label = code === 'InvalidCustomerId' ? 'customerId' : 'subscriptionId';
  if (raw === undefined || !guid.safeParse(raw).success) {
    throw new ApiError(
      code,
      `${label} ${quote(raw ?? '')} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`,
    );
  }
  return raw.toLowerCase();
}

/**
 * The query string as a map of the allowed names, each given at most once. Unknown or repeated
 * names are a 400: a typo like `overbudget=true` must not silently return unfiltered data.
 */
export function readQuery(query: URLSearchParams, schema: z.ZodObject): Map<string, string> {
  const allowed = Object.keys(schema.shape);
  const values = new Map<string, string>();
  for (const [name, value] of query) {
    if (HOST_PARAMETERS.has(name)) continue;
    if (!allowed.includes(name)) {
      const known = allowed.length === 0 ? 'this route takes none' : `expected ${allowed.join(', ')}`;
      throw new ApiError('InvalidQuery', `Unknown query parameter ${quote(name)}; ${known}`);
    }
    if (values.has(name))
      throw new ApiError('InvalidQuery', `Query parameter ${name} is given more than once`);
    values.set(name, value);
  }
  return values;
}

export function parseLimit(
  raw: string | undefined,
  max: number = MAX_LIMIT,
  fallback: number = DEFAULT_LIMIT,
): number {
  if (raw === undefined) return fallback;
  if (!/^[1-9]\d{0,5}$/.test(raw) || Number(raw) > max) {
    throw new ApiError('InvalidQuery', `limit ${quote(raw)} is not a whole number 1-${max}`);
  }
  return Number(raw);
}

export function parseBoolean(name: string, raw: string | undefined): boolean | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ApiError('InvalidQuery', `${name} ${quote(raw)} is not true or false`);
}

/** An ISO currency code (upper-cased) or a locale (as given; the store matches case-insensitively). */
export function parseCurrency(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (CURRENCY_CODE.test(raw)) return raw.toUpperCase();
  if (LOCALE.test(raw)) return raw;
  throw new ApiError(
    'InvalidQuery',
    `currency ${quote(raw)} is neither an ISO currency code (EUR) nor a locale (fr-FR)`,
  );
}

/**
 * An ISO-8601 date (`2025-05-01`) or date-time with a zone (`2025-05-01T06:00:00Z`). A date
 * alone means the start of that UTC day for `from` and its end for `to`, so `to=2025-05-31`
 * includes the 31st.
 */
export function parseDate(name: 'from' | 'to', raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const invalid = () =>
    new ApiError(
      'InvalidQuery',
      `${name} ${quote(raw)} is not an ISO-8601 date (2025-05-01) or date-time with zone (2025-05-01T06:00:00Z)`,
    );
  const dateOnly = ISO_DATE.exec(raw);
  const dateTime = dateOnly ? undefined : ISO_DATE_TIME.exec(raw);
  const parts = dateOnly ?? dateTime;
  if (!parts) throw invalid();
  const [year, month, day] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (year < 1970 || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) throw invalid();
  if (dateOnly) {
    return name === 'from' ? probe : new Date(probe.getTime() + 86_400_000 - 1);
  }
  const m = dateTime as RegExpExecArray;
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  const offsetHours = Number(m[9] ?? 0);
  const offsetMinutes = Number(m[10] ?? 0);
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 14 || offsetMinutes > 59) throw invalid();
  const millis = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3));
  const sign = m[8].startsWith('-') ? -1 : 1;
  const offsetMs = sign * (offsetHours * 60 + offsetMinutes) * 60_000;
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMs);
}

export function parseRange(
  fromRaw: string | undefined,
  toRaw: string | undefined,
): { from?: Date; to?: Date } {
  const from = parseDate('from', fromRaw);
  const to = parseDate('to', toRaw);
  if (from && to && from.getTime() > to.getTime()) {
    throw new ApiError('InvalidQuery', 'from is later than to');
  }
  return { from, to };
}

export function parseFormat(raw: string | undefined): 'json' | 'csv' | undefined {
  if (raw === undefined) return undefined;
  const parsed = formatParameter.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ApiError('InvalidQuery', `format ${quote(raw)} is not json or csv`);
}
