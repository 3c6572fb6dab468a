import autocannon from 'autocannon';
import { percentile } from '../harness';

/** Throughput and latency of one load run; latencies in ms, measured per request as floats. */
export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Connection errors and timeouts (HTTP) or thrown errors (raw reads). */
  errors: number;
  /** Of those, requests with no answer within the timeout (HTTP only). */
  timeouts: number;
  /** Errors by code or message (`request timed out`, `ECONNRESET`, …). */
  errorKinds: Record<string, number>;
  /** Answers outside 2xx (HTTP only). */
  non2xx: number;
  statusCounts: Record<string, number>;
  /** Every latency, sorted, so that runs can be merged exactly (see mergeLoads). */
  samples: number[];
}

type Counts = Omit<LoadResult, 'requests' | 'seconds' | 'perSecond' | 'p50' | 'p99' | 'samples'>;

/** A result from its sorted latencies, the time they took and its error counts. */
function fromSamples(samples: number[], seconds: number, counts: Counts): LoadResult {
  return {
    requests: samples.length,
    seconds,
    perSecond: samples.length / seconds,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    ...counts,
    samples,
  };
}

/** Several runs of one side as if they were one: latencies pooled, counts summed. */
export function mergeLoads(runs: readonly LoadResult[]): LoadResult {
  const samples = runs.flatMap((r) => r.samples).sort((a, b) => a - b);
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  const sum = (pick: (r: LoadResult) => number) => runs.reduce((total, r) => total + pick(r), 0);
  const counts = (pick: (r: LoadResult) => Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const r of runs) for (const [k, n] of Object.entries(pick(r))) out[k] = (out[k] ?? 0) + n;
    return out;
  };
  return fromSamples(samples, seconds, {
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    errorKinds: counts((r) => r.errorKinds),
    non2xx: sum((r) => r.non2xx),
    statusCounts: counts((r) => r.statusCounts),
  });
}

export interface HttpLoadOptions {
  url: string;
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
  /** The next request's path, and a tag handed back with its answer; spreads the load over many customers. */
  next: () => { path: string; tag?: unknown };
  /** Sees every answer's status, body and request tag (autocannon keeps bodies only when asked). */
  onBody?: (status: number, body: string, tag: unknown) => void;
  /** Sees every request error as it happens, by the kind errorKinds counts it under. */
  onError?: (kind: string) => void;
  /** A request with no answer after this long is counted as timed out and its connection replaced; default 10. */
  timeoutSeconds?: number;
}

/** autocannon against one server; latencies come from its per-response times, not its integer histogram. */
export async function httpLoad(options: HttpLoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const started = performance.now();
  const onBody = options.onBody;
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    timeout: options.timeoutSeconds ?? 10,
    headers: options.headers,
    requests: [
      {
        method: 'GET',
        // One request in flight per connection (no pipelining), so the connection's context
        // still holds this request's tag when its answer arrives.
        setupRequest: (request, context) => {
          const next = options.next();
          context.tag = next.tag;
          return { ...request, path: next.path };
        },
        ...(onBody
          ? { onResponse: (status: number, body: string, context) => onBody(status, body, context.tag) }
          : {}),
      },
    ],
  });
  instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  const errorKinds: Record<string, number> = {};
  instance.on('reqError', (error) => {
    const kind = (error as { code?: string }).code ?? error.message;
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    options.onError?.(kind);
  });
  const result = await instance;
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const statusCounts: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(result.statusCodeStats)) statusCounts[status] = count;
  return fromSamples(latencies, seconds, {
    // autocannon counts a timeout as an error too.
    errors: result.errors,
    timeouts: result.timeouts,
    errorKinds,
    non2xx: result.non2xx,
    statusCounts,
  });
}

/** `concurrency` loops calling `read(i)` back to back for `seconds`; every call is timed. */
export async function readLoop(options: {
  concurrency: number;
  seconds: number;
  read: (sequence: number) => Promise<unknown>;
}): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let sequence = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await options.read(sequence++);
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return fromSamples(latencies, seconds, {
    errors,
    timeouts: 0,
    errorKinds: {},
    non2xx: 0,
    statusCounts: {},
  });
}
