import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { LineItemError } from '../graph/errors';
import { readAggregatedLine, UsageAggregate } from './aggregate';

export interface BlobTotals {
  aggregate: UsageAggregate;
  linesRead: number;
  linesRejected: number;
  /** The first few rejections: line number and reason (never the line's text). */
  rejections: string[];
}

const MAX_REJECTIONS_KEPT = 20;

/**
 * Streams one export blob: gzip bytes → gunzip → lines → parse → aggregate. Only one decoded chunk
 * and the aggregate are held at a time, so memory follows the number of distinct aggregate keys,
 * not the blob's size. A line the line-item rules reject (src/graph/lineItem.ts: not JSON, no
 * customer, an amount that is not a decimal, …) is counted as rejected and skipped: one hostile
 * line does not stop the blob.
 */
export async function readBlob(gzipped: Readable, signal?: AbortSignal): Promise<BlobTotals> {
  const totals: BlobTotals = {
    aggregate: new UsageAggregate(),
    linesRead: 0,
    linesRejected: 0,
    rejections: [],
  };
  const decoder = new StringDecoder('utf8');
  let carry = '';
  const take = (line: string) => {
    if (line.trim() === '') return;
    totals.linesRead++;
    try {
      totals.aggregate.add(readAggregatedLine(line));
    } catch (error) {
      if (!(error instanceof LineItemError)) throw error;
      totals.linesRejected++;
      if (totals.rejections.length < MAX_REJECTIONS_KEPT)
        totals.rejections.push(
          `line ${totals.linesRead}: ${error.field === '$' ? error.problem : `${error.field} ${error.problem}`}`,
        );
    }
  };
  const gunzip = createGunzip();
  gzipped.on('error', (error) => gunzip.destroy(error));
  gzipped.pipe(gunzip);
  for await (const chunk of gunzip as AsyncIterable<Buffer>) {
    if (signal?.aborted) {
      gzipped.destroy();
      throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
    }
    const text = carry + decoder.write(chunk);
    let start = 0;
    let end = text.indexOf('\n', start);
    while (end !== -1) {
      take(text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end));
      start = end + 1;
      end = text.indexOf('\n', start);
    }
    carry = text.slice(start);
  }
  take(carry + decoder.end());
  return totals;
}
