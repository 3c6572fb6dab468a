import { ApiError } from './errors';

export type Format = 'json' | 'csv';

const MEDIA: Record<Format, string> = { json: 'application/json', csv: 'text/csv' };

/**
 * `?format=` wins; otherwise the Accept header, with q-values and a more specific range winning a
 * tie (so `text/csv, *\/*` is CSV). No Accept, or nothing acceptable but a wildcard: JSON. An
 * Accept that admits neither JSON nor, where offered, CSV: 406.
 */
export function chooseFormat(
  accept: string | null,
  format: Format | undefined,
  offered: readonly Format[],
): Format {
  if (format !== undefined) {
    if (!offered.includes(format)) {
      throw new ApiError('InvalidQuery', `format=${format} is not offered here; use ${offered.join(' or ')}`);
    }
    return format;
  }
  if (accept === null || accept.trim() === '') return 'json';
  const ranges = accept.split(',').map(parseRange);
  let best: { format: Format; q: number; specificity: number } | undefined;
  for (const candidate of offered) {
    const [type, subtype] = MEDIA[candidate].split('/');
    let score: { q: number; specificity: number } | undefined;
    for (const range of ranges) {
      if (!range) continue;
      const specificity =
        range.type === type && range.subtype === subtype
          ? 2
          : range.type === type && range.subtype === '*'
            ? 1
            : range.type === '*' && range.subtype === '*'
              ? 0
              : -1;
      if (specificity < 0) continue;
      if (!score || specificity > score.specificity) score = { q: range.q, specificity };
    }
    if (!score || score.q <= 0) continue;
    if (!best || score.q > best.q || (score.q === best.q && score.specificity > best.specificity)) {
      best = { format: candidate, ...score };
    }
  }
  if (!best) {
    throw new ApiError(
      'NotAcceptable',
      `This route answers ${offered.map((f) => MEDIA[f]).join(' or ')}; the Accept header admits neither`,
    );
  }
  return best.format;
}

function parseRange(text: string): { type: string; subtype: string; q: number } | undefined {
  const [media, ...params] = text.split(';').map((part) => part.trim().toLowerCase());
  const match = /^([a-z0-9!#$&^_.+-]+|\*)\/([a-z0-9!#$&^_.+-]+|\*)$/.exec(media ?? '');
  if (!match) return undefined;
  let q = 1;
  for (const param of params) {
    const qValue = /^q=([01](?:\.\d{0,3})?)$/.exec(param);
    if (qValue) q = Math.min(1, Number(qValue[1]));
  }
  return { type: match[1], subtype: match[2], q };
}
