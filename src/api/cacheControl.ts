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
  try {
    const next = CronExpressionParser.parse(schedule, { tz: 'UTC', currentDate: now }).next().toDate();
    const seconds = Math.floor((next.getTime() - now.getTime()) / 1000);
    return Math.max(0, Math.min(capSeconds, seconds));
  } catch {
    // Settings validate the schedule at startup; should one slip through, do not cache.
    return 0;
  }
}
