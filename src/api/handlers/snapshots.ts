import type { HttpResponseInit } from '@azure/functions';
import { RunAlreadyActiveError, type RunRequester } from '../../domain/runs';
import type { UsageReader } from '../../domain/usageReader';
import { endpoint, type ApiHandler } from '../endpoint';
import { ApiError } from '../errors';
import { chooseFormat } from '../negotiation';
import { runBody } from '../representation';
import { parseLimit, readQuery } from '../validation';
import { DEFAULT_RUNS, MAX_RUNS, QUERIES } from '../schemas';

export interface SnapshotsDependencies {
  reader: Pick<UsageReader, 'listRuns'>;
  runs: RunRequester;
}

/**
 * GET /api/v1/snapshots: recent runs, newest first. POST: queue a run now, 202 with its id, or
 * 409 RunAlreadyActive while one is queued or running. Control data: never cached.
 */
export function createSnapshotsHandler(deps: SnapshotsDependencies): ApiHandler {
  return endpoint({
    GET: async (request) => {
      const query = readQuery(request.query, QUERIES.runs);
      const limit = parseLimit(query.get('limit'), MAX_RUNS, DEFAULT_RUNS);
      chooseFormat(request.headers.get('accept'), undefined, ['json']);
      const runs = await deps.reader.listRuns(limit);
      return json(200, { data: runs.map(runBody) });
    },
    POST: async (request) => {
      readQuery(request.query, QUERIES.none);
      const run = await deps.runs.requestRun('manual').catch((error: unknown) => {
        if (!(error instanceof RunAlreadyActiveError)) throw error;
        throw new ApiError(
          'RunAlreadyActive',
          `Snapshot run ${error.runId} is already queued or running; follow it in GET /api/v1/snapshots and try again when it ends`,
        );
      });
      return json(202, { data: runBody(run) });
    },
  });
}

function json(status: number, body: unknown): HttpResponseInit {
  return {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
    body: JSON.stringify(body),
  };
}
