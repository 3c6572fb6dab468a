import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { HistoryPoint, Page } from '../../domain/usageReader';
import { chooseFormat } from '../negotiation';
import { historyPointBody } from '../representation';
import type { UsageApi } from '../usageResponse';
import { parseLimit, parseRange, readQuery } from '../validation';
import { QUERIES } from '../schemas';

export interface HistoryQuery {
  from?: Date;
  to?: Date;
  limit: number;
  continuationToken?: string;
}

/**
 * Customer and subscription history share everything but the lookup: totals per snapshot within
 * [from, to], newest first, paged. The envelope's `snapshot` is the newest point of the page (null
 * for an empty page); each point carries its own `takenAt` and billing period.
 */
export async function historyResponse(
  api: UsageApi,
  request: HttpRequest,
  route: string,
  ids: string[],
  read: (query: HistoryQuery) => Promise<Page<HistoryPoint>>,
): Promise<HttpResponseInit> {
  const query = readQuery(request.query, QUERIES.history);
  const { from, to } = parseRange(query.get('from'), query.get('to'));
  const limit = parseLimit(query.get('limit'));
  chooseFormat(request.headers.get('accept'), undefined, ['json']);
  const binding = { route, ids, query: { from: from?.toISOString(), to: to?.toISOString() } };
  const storeToken = await api.tokens.unwrap(query.get('continuationToken'), binding);
  const page = await read({ from, to, limit, continuationToken: storeToken });
  const newest = page.items[0];
  return api.respond(request, {
    envelope: {
      snapshot: newest ? api.meta(newest) : null,
      data: page.items.map(historyPointBody),
      continuationToken: (await api.tokens.wrap(page.continuationToken, binding)) ?? null,
    },
  });
}
