import { isLosslessNumber, LosslessNumber, parse } from 'lossless-json';
import { ResponseShapeError } from './errors';

export { isLosslessNumber, LosslessNumber };

const BOM = '\uFEFF';

/**
 * Parses a Partner Center body without losing digits: every JSON number becomes a LosslessNumber
 * holding the exact text sent (costs such as 120.5682999999995904716 have more digits than a
 * double keeps). Keeping numbers as their own type, rather than plain strings, lets validation
 * still tell a JSON number from a JSON string. PartnerFD prefixes its bodies with a UTF-8 BOM;
 * other answers (the gateway's 429, Entra) do not, so one is stripped when present.
 * Throws ResponseShapeError at path `$` when the text is not JSON.
 */
export function parseJson(text: string): unknown {
  const body = text.startsWith(BOM) ? text.slice(1) : text;
  if (body.trim() === '') throw new ResponseShapeError('$', 'the body is empty, expected JSON');
  try {
    return parse(body);
  } catch (error) {
    // lossless-json's messages quote a position, never the text itself.
    const detail = error instanceof Error ? error.message.slice(0, 200) : 'unparseable';
    throw new ResponseShapeError('$', `the body is not valid JSON (${detail})`);
  }
}

/** Like parseJson, but undefined instead of an error; for error bodies, which are best effort. */
export function tryParseJson(text: string): unknown {
  try {
    return parseJson(text);
  } catch {
    return undefined;
  }
}

/** Decodes a body as UTF-8; a leading BOM is kept for parseJson to strip. */
export function decodeUtf8(data: ArrayBuffer | Uint8Array | string | undefined): string {
  if (data === undefined) return '';
  if (typeof data === 'string') return data;
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(data);
}
