import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { ApiError, quote } from './errors';

/** Resolves when the part answers; must stop work (and close its connection) when `signal` aborts. */
export type Probe = (signal: AbortSignal) => Promise<void>;

/** How long one probe result answers every caller: at most one probe round per part per window. */
export const HEALTH_CACHE_MS = 30_000;
/** A part that takes longer than this counts as not answering, and its request is cancelled. */
export const HEALTH_PROBE_TIMEOUT_MS = 5_000;

export interface HealthDependencies {
  version: string;
  probes: Record<string, Probe>;
  timeoutMs?: number;
  cacheMs?: number;
  now?: () => number;
}

interface CheckResult {
  ok: boolean;
  durationMs: number;
  /** An error class or code only: a message could echo a connection string. */
  error?: string;
}

interface Report {
  status: 'ok' | 'unhealthy';
  version: string;
  failed: string[];
  checks: Record<string, CheckResult>;
}

export type HealthHandler = (request: HttpRequest) => Promise<HttpResponseInit>;

/** `GET /api/health?probe=live`: the process answers; it reads no secret and calls no storage. */
export function isLivenessRequest(request: HttpRequest): boolean {
  return request.query.get('probe') === 'live';
}

/**
 * GET /api/health. Readiness (no `probe`, or `probe=ready`): 200 when every part answers, 503
 * naming the parts that did not. The route is anonymous, so it must not let a caller drive
 * traffic to Key Vault or storage: one probe round runs at a time, every caller in the meantime
 * shares it, its result answers everyone for `cacheMs`, and each probe is cancelled after
 * `timeoutMs`. Liveness (`probe=live`) answers from memory.
 */
export function createHealthHandler(deps: HealthDependencies): HealthHandler {
  const timeoutMs = deps.timeoutMs ?? HEALTH_PROBE_TIMEOUT_MS;
  const cacheMs = deps.cacheMs ?? HEALTH_CACHE_MS;
  const now = deps.now ?? Date.now;
  let cached: { report: Report; at: number } | undefined;
  let inFlight: Promise<Report> | undefined;

  const probeAll = async (): Promise<Report> => {
    const names = Object.keys(deps.probes);
    const results = await Promise.all(names.map((name) => check(deps.probes[name], timeoutMs)));
    const failed = names.filter((_, i) => !results[i].ok);
    return {
      status: failed.length === 0 ? 'ok' : 'unhealthy',
      version: deps.version,
      failed,
      checks: Object.fromEntries(names.map((name, i) => [name, results[i]])),
    };
  };

  const current = (): Promise<Report> => {
    if (cached && now() - cached.at < cacheMs) return Promise.resolve(cached.report);
    inFlight ??= probeAll()
      .then((report) => {
        cached = { report, at: now() };
        return report;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  return async (request) => {
    const probe = request.query.get('probe') ?? 'ready';
    if (probe === 'live') {
      return respond(200, { status: 'ok', version: deps.version, failed: [], checks: {} });
    }
    if (probe !== 'ready') {
      throw new ApiError('InvalidQuery', `probe must be "live" or "ready", not ${quote(probe)}`);
    }
    const report = await current();
    return respond(report.failed.length === 0 ? 200 : 503, report);
  };
}

function respond(status: number, report: Report): HttpResponseInit {
  return {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
    body: JSON.stringify(report),
  };
}

async function check(probe: Probe, timeoutMs: number): Promise<CheckResult> {
  const started = Date.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(controller.signal),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // Settle first, so the caller reads Timeout rather than the probe's own abort error.
          reject(Object.assign(new Error('timeout'), { code: 'Timeout' }));
          controller.abort();
        }, timeoutMs);
      }),
    ]);
    return { ok: true, durationMs: Date.now() - started };
  } catch (error) {
    return { ok: false, durationMs: Date.now() - started, error: describe(error) };
  } finally {
    clearTimeout(timer);
  }
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^[A-Za-z][\w.]{0,60}$/.test(code)) return code;
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof status === 'number') return `HTTP ${status}`;
  return error instanceof Error ? error.name : 'Error';
}
