import { CronExpressionParser } from 'cron-parser';

/**
 * Usage data changes when a snapshot run finishes, at the earliest at the next scheduled start.
 * Caches may keep a response until then, but no longer than `capSeconds`, because a run asked for
 * by hand (POST /api/v1/snapshots) can land at any time. Revalidation with If-None-Match is cheap
 * (304), so a short cap costs little. `private`: responses are per key and must not sit in a
 * shared cache.
 */
export const CACHE_CAP_SECONDS = 300;

export function usageCacheControl(schedule: string, now: Date, capSeconds = CACHE_CAP_SECONDS): string {
  return `private, max-age=${secondsUntilNext(schedule, now, capSeconds)}`;
}

export function secondsUntilNext(schedule: string, now: Date, capSeconds: number): number {
  const next = nextOccurrence(schedule, now);
  if (next === undefined) return 0;
  const seconds = Math.floor((next - now.getTime()) / 1000);
  return Math.max(0, Math.min(capSeconds, seconds));
}

/**
 * The schedule's first occurrence after `now` (epoch ms), or undefined for a schedule that does not
 * parse. Parsing an NCRONTAB expression costs far more than the rest of a cached read (it was
 * about a tenth of the API's CPU under load), so the answer is remembered: it stays right for
 * every `now` from the one it was computed at up to the occurrence itself.
 */
function nextOccurrence(schedule: string, now: Date): number | undefined {
  const at = now.getTime();
  const known = remembered.get(schedule);
  if (known && at >= known.from && at < known.next) return known.next;
  let next: number;
  try {
    next = CronExpressionParser.parse(schedule, { tz: 'UTC', currentDate: now }).next().getTime();
  } catch {
    // Settings validate the schedule at startup; should one slip through, do not cache.
    return undefined;
  }
  if (remembered.size >= 16) remembered.clear();
  remembered.set(schedule, { from: at, next });
  return next;
}

const remembered = new Map<string, { from: number; next: number }>();
