import { CronExpressionParser } from 'cron-parser';
import fc from 'fast-check';
import { secondsUntilNext, usageCacheControl } from '../../src/api/cacheControl';
import { ifNoneMatchHits, strongETag } from '../../src/api/etag';
import { isApiError } from '../../src/api/errors';
import { chooseFormat } from '../../src/api/negotiation';

describe('Cache-Control', () => {
  test('when the next run is 90 s away, then max-age=90', () => {
    expect(usageCacheControl('0 0 */6 * * *', new Date('2025-05-20T11:58:30Z'))).toBe('private, max-age=90');
  });

  test('when the next run is hours away, then the cap', () => {
    expect(secondsUntilNext('0 0 */6 * * *', new Date('2025-05-20T06:00:01Z'), 300)).toBe(300);
  });

  test('when the schedule is unreadable, then max-age=0', () => {
    expect(usageCacheControl('not cron', new Date())).toBe('private, max-age=0');
  });

  test('when reads come at any times, in any order, on several schedules, then each answer equals a fresh parse of the schedule', () => {
    const schedules = ['0 0 */6 * * *', '0 */5 * * * *', '30 15 3 * * 1', '0 0 0 1 * *'];
    const start = Date.parse('2025-05-20T00:00:00Z');
    const fresh = (schedule: string, now: Date, cap: number) => {
      const next = CronExpressionParser.parse(schedule, { tz: 'UTC', currentDate: now }).next().getTime();
      return Math.max(0, Math.min(cap, Math.floor((next - now.getTime()) / 1000)));
    };
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            schedule: fc.constantFrom(...schedules),
            // Within two days, often right on or next to a whole minute or hour.
            at: fc.oneof(
              fc.integer({ min: 0, max: 2 * 86_400_000 }),
              fc
                .tuple(fc.integer({ min: 0, max: 48 * 60 }), fc.constantFrom(-1, 0, 1))
                .map(([minute, ms]) => minute * 60_000 + ms),
            ),
            cap: fc.constantFrom(300, 86_400 * 40),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        (reads) => {
          for (const { schedule, at, cap } of reads) {
            const now = new Date(start + at);
            expect(secondsUntilNext(schedule, now, cap)).toBe(fresh(schedule, now, cap));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('ETag', () => {
  const etag = strongETag('{"a":1}');
  test.each([
    [null, false],
    ['*', true],
    [etag, true],
    [`W/${etag}`, true],
    [`"x", W/"y", ${etag}`, true],
    ['"x"', false],
    ['garbage', false],
  ])('when If-None-Match is %j, then a hit is %s', (header, hit) => {
    expect(ifNoneMatchHits(header, etag)).toBe(hit);
  });
});

describe('content negotiation', () => {
  const offered = ['json', 'csv'] as const;
  test.each([
    [null, 'json'],
    ['', 'json'],
    ['*/*', 'json'],
    ['text/csv', 'csv'],
    ['text/csv, */*', 'csv'],
    ['text/*', 'csv'],
    ['application/json, text/csv', 'json'],
    ['application/json;q=0.1, text/csv;q=0.9', 'csv'],
    ['text/csv;q=0, */*', 'json'],
  ])('when Accept is %j, then %s', (accept, format) => {
    expect(chooseFormat(accept, undefined, offered)).toBe(format);
  });

  test('when only JSON is offered and Accept is text/csv, then NotAcceptable', () => {
    let code: string | undefined;
    try {
      chooseFormat('text/csv', undefined, ['json']);
    } catch (error) {
      code = isApiError(error) ? error.code : undefined;
    }
    expect(code).toBe('NotAcceptable');
  });
});
