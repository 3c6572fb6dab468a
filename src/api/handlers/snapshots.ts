import type { HttpResponseInit } from '@azure/functions';
import type { RunRequestQueue } from '../../domain/runQueue';
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
  /** Wakes a worker at once; without it (or when it fails) the resume timer picks the run up. */
  queue?: RunRequestQueue;
}

/**
 * GET /api/v1/snapshots: recent runs, newest first. POST: queue a run now and put a message on
 * the request queue that starts it within seconds, 202 with its id, or 409 RunAlreadyActive while
 * one is queued or running. Control data: never cached.
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
    POST: async (request, context) => {
      readQuery(request.query, QUERIES.none);
      const run = await deps.runs.requestRun('manual').catch((error: unknown) => {
        if (!(error instanceof RunAlreadyActiveError)) throw error;
        throw new ApiError(
          'RunAlreadyActive',
          `Snapshot run ${error.runId} is already queued or running; follow it in GET /api/v1/snapshots and try again when it ends`,
        );
      });
      // The run is recorded: a message that cannot be sent only delays it to the resume timer.
      await deps.queue
        ?.request(run.runId)
        .catch((error: unknown) =>
          context.warn(
            `snapshot run ${run.runId} queued without a wake-up message (the resume timer will start it): ${
              error instanceof Error ? error.message.split('\n')[0] : String(error)
            }`,
          ),
        );
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
