import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import type { HttpResponseInit } from '@azure/functions';
import { CronExpressionParser } from 'cron-parser';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { compareRoutes, compileRoute, matchRoute, type CompiledRoute } from './routes';
import { invokeFunction, registeredFunctions, triggerOf, type RegisteredFunction } from './functionsCore';
import { queueOptionsFrom, startQueueTriggers, type QueueHostOptions, type QueueTriggers } from './queues';

export interface LocalHostOptions {
  port: number;
  host?: string;
  /** Route prefix as in host.json's extensions.http.routePrefix. */
  routePrefix?: string;
  /** Key accepted for `function`-level routes (like a host key). */
  functionKey: string;
  /** Key accepted everywhere, and the only one for `admin`-level routes. */
  masterKey: string;
  /** Where %NAME% in timer schedules is resolved. */
  env?: NodeJS.ProcessEnv;
  /** Turn timers off (tests that drive HTTP only). */
  timers?: boolean;
  /** Turn queue triggers off; by default they run when timers do. */
  queues?: boolean;
  /** host.json, for `extensions.queues` (default: the repository's). */
  hostJsonPath?: string;
  /** Overrides of host.json's queue options (tests). */
  queueOptions?: Partial<QueueHostOptions>;
  /** How long a received queue message stays invisible between renewals (default 30 s). */
  queueLeaseMs?: number;
  log?: (line: string) => void;
  /**
   * Most body bytes a keyed (function or admin) route accepts; anonymous routes accept none.
   * Larger bodies get 413 before they are buffered. Default `DEFAULT_MAX_BODY_BYTES`.
   */
  maxBodyBytes?: number;
}

export interface LocalHost {
  url: string;
  functions: readonly RegisteredFunction[];
  /** Runs a timer function now, as `func` would on its schedule. */
  runTimer(name: string): Promise<unknown>;
  close(): Promise<void>;
}

interface HttpRoute {
  fn: RegisteredFunction;
  route: CompiledRoute;
  methods: string[];
  authLevel: 'anonymous' | 'function' | 'admin';
}

/** Reads the route prefix the host would use, from host.json beside package.json. */
export function routePrefixFrom(hostJsonPath: string): string {
  const hostJson = JSON.parse(fs.readFileSync(hostJsonPath, 'utf8')) as {
    extensions?: { http?: { routePrefix?: string } };
  };
  return hostJson.extensions?.http?.routePrefix ?? 'api';
}

/** The repository's host.json (the built file sits two folders below the root). */
function defaultHostJsonPath(): string {
  return path.resolve(__dirname, '../../host.json');
}

/**
 * Serves the functions the app registered (see functionsCore.ts): HTTP triggers with their
 * routes, methods and auth levels, timer triggers on their NCRONTAB schedules (UTC), and queue
 * triggers from their Storage queues with host.json's queue options (see queues.ts).
 */
export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  const prefix = (options.routePrefix ?? 'api').replace(/^\/+|\/+$/g, '');
  const functions = registeredFunctions();
  const routes = functions
    .filter((fn) => triggerOf(fn).type.toLowerCase() === 'httptrigger')
    .map((fn): HttpRoute => {
      const trigger = triggerOf(fn);
      return {
        fn,
        route: compileRoute((trigger.route as string | undefined) ?? fn.name),
        methods: ((trigger.methods as string[] | undefined) ?? ['GET', 'POST']).map((m) => m.toUpperCase()),
        authLevel: (
          (trigger.authLevel as string | undefined) ?? 'function'
        ).toLowerCase() as HttpRoute['authLevel'],
      };
    })
    .sort((a, b) => compareRoutes(a.route, b.route));

  // Requests Node's parser refuses (headers over its 16 KiB limit, malformed framing) never reach
  // a handler; answer them as the API answers everything else: a JSON error. (In Azure the
  // platform's front end answers these itself.)
  const server = http.createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`[host] unhandled error: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const body = JSON.stringify({
      error: tooLarge
        ? { code: 'RequestHeadersTooLarge', message: 'The request headers are larger than 16 KiB' }
        : { code: 'BadRequest', message: 'The request could not be parsed as HTTP' },
    });
    socket.end(
      `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const method = (req.method ?? 'GET').toUpperCase();
    const pathname = url.pathname.replace(/^\/+/, '');
    const underPrefix =
      prefix === ''
        ? pathname
        : pathname.toLowerCase() === prefix.toLowerCase()
          ? '' // `/api` is the prefix itself: the catch-all answers it, as in Azure
          : pathname.toLowerCase().startsWith(`${prefix.toLowerCase()}/`)
            ? pathname.slice(prefix.length + 1)
            : undefined;
    let match: { route: HttpRoute; params: Record<string, string> } | undefined;
    if (underPrefix !== undefined) {
      for (const route of routes) {
        if (!route.methods.includes(method)) continue;
        const params = matchRoute(route.route, underPrefix);
        if (params) {
          match = { route, params };
          break;
        }
      }
    }
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    if (!authorised(match.route.authLevel, req, url)) {
      refuseUnread(req, res, 401);
      return;
    }
    const limit =
      match.route.authLevel === 'anonymous' ? 0 : (options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    const body = await readBody(req, limit);
    if (body === 'tooLarge') {
      const error = {
        code: 'PayloadTooLarge',
        message:
          limit === 0
            ? 'This route takes no request body'
            : `The request body is larger than this route accepts (${limit} bytes)`,
      };
      refuseUnread(req, res, 413, JSON.stringify({ error }));
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const request = new HttpRequest({
      method,
      url: url.toString(),
      headers,
      params: match.params,
      body: body.length > 0 ? { bytes: body } : undefined,
    });
    const context = newContext(match.route.fn);
    const started = Date.now();
    let result: unknown;
    try {
      result = await invokeFunction(match.route.fn, [request], context);
    } catch (error) {
      log(`[${match.route.fn.name}] failed: ${error instanceof Error ? error.message : String(error)}`);
      res.writeHead(500).end();
      return;
    }
    const response =
      result instanceof HttpResponse ? result : new HttpResponse((result ?? {}) as HttpResponseInit);
    const payload = Buffer.from(await response.arrayBuffer());
    const outHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => (outHeaders[name] = value));
    res.writeHead(response.status, outHeaders);
    res.end(method === 'HEAD' ? undefined : payload);
    log(
      `[${match.route.fn.name}] ${method} ${url.pathname} -> ${response.status} (${Date.now() - started} ms)`,
    );
  }

  function authorised(level: HttpRoute['authLevel'], req: http.IncomingMessage, url: URL): boolean {
    if (level === 'anonymous') return true;
    const header = req.headers['x-functions-key'];
    const presented = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('code') ?? '';
    if (sameKey(presented, options.masterKey)) return true;
    return level === 'function' && sameKey(presented, options.functionKey);
  }

  function newContext(fn: RegisteredFunction): InvocationContext {
    return new InvocationContext({
      invocationId: randomUUID(),
      functionName: fn.name,
      logHandler: (level, ...args) =>
        log(
          `[${fn.name}] ${level}: ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`,
        ),
    });
  }

  const timers =
    options.timers === false
      ? []
      : functions.filter((fn) => triggerOf(fn).type.toLowerCase() === 'timertrigger');
  const queueFunctions = functions.filter((fn) => triggerOf(fn).type.toLowerCase() === 'queuetrigger');
  const queues: QueueTriggers | undefined =
    (options.queues ?? options.timers) === false || queueFunctions.length === 0
      ? undefined
      : startQueueTriggers({
          functions: queueFunctions,
          options: {
            ...queueOptionsFrom(options.hostJsonPath ?? defaultHostJsonPath(), undefined, env),
            ...options.queueOptions,
          },
          env,
          leaseMs: options.queueLeaseMs,
          log,
          invoke: (fn, input, context) => invokeFunction(fn, [input], context),
        });
  const running = new Map<string, Promise<unknown>>();
  const handles = new Map<string, NodeJS.Timeout>();
  let closed = false;

  async function runTimer(name: string, last?: Date): Promise<unknown> {
    const fn = functions.find((f) => f.name === name);
    if (!fn) throw new Error(`No function named ${name}`);
    // Like the host, one invocation of a timer function at a time.
    const inFlight = running.get(name);
    if (inFlight) return inFlight;
    const schedule = resolveSchedule(fn, env);
    const timerInfo = {
      schedule: { adjustForDST: false },
      scheduleStatus: {
        last: (last ?? new Date()).toISOString(),
        next: nextOccurrence(schedule).toISOString(),
        lastUpdated: new Date().toISOString(),
      },
      isPastDue: false,
    };
    const invocation = Promise.resolve()
      .then(() => invokeFunction(fn, [timerInfo], newContext(fn)))
      .catch((error: unknown) =>
        log(`[${name}] failed: ${error instanceof Error ? error.message : String(error)}`),
      )
      .finally(() => running.delete(name));
    running.set(name, invocation);
    return invocation;
  }

  function arm(fn: RegisteredFunction): void {
    if (closed) return;
    const next = nextOccurrence(resolveSchedule(fn, env));
    // setTimeout caps at ~24.8 days; re-arm in steps for schedules further out.
    const delay = Math.min(next.getTime() - Date.now(), 2 ** 31 - 1);
    handles.set(
      fn.name,
      setTimeout(
        () => {
          if (Date.now() >= next.getTime() - 5) void runTimer(fn.name, next);
          arm(fn);
        },
        Math.max(delay, 0),
      ),
    );
  }

  for (const fn of timers) {
    resolveSchedule(fn, env); // fail at startup on a bad schedule, as the host does
    arm(fn);
    if (triggerOf(fn).runOnStartup === true) void runTimer(fn.name);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;
  const url = `http://${options.host === '0.0.0.0' ? 'localhost' : address.address}:${address.port}`;

  return {
    url,
    functions,
    runTimer: (name) => runTimer(name),
    async close() {
      closed = true;
      for (const handle of handles.values()) clearTimeout(handle);
      await queues?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await Promise.allSettled(running.values());
    },
  };
}

/** `%NAME%` is resolved from app settings, as the host does; a missing setting is an error. */
export function resolveSchedule(fn: RegisteredFunction, env: NodeJS.ProcessEnv): string {
  const raw = String(triggerOf(fn).schedule ?? '');
  const resolved = raw.replace(/%([^%]+)%/g, (_, name: string) => {
    const value = env[name];
    if (!value) throw new Error(`Function "${fn.name}": schedule setting ${name} is not set`);
    return value;
  });
  if (resolved.trim().split(/\s+/).length !== 6) {
    throw new Error(`Function "${fn.name}": schedule "${resolved}" is not a six-field NCRONTAB expression`);
  }
  return resolved;
}

export function nextOccurrence(schedule: string, after = new Date()): Date {
  return CronExpressionParser.parse(schedule, { tz: 'UTC', currentDate: after }).next().toDate();
}

function sameKey(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return expected !== '' && a.length === b.length && timingSafeEqual(a, b);
}

/** Body bytes a keyed route accepts locally: the app's routes take none, so this is headroom. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/**
 * The body, or 'tooLarge' as soon as it is known to exceed `limit`: at once from Content-Length,
 * else when the streamed bytes pass it. Nothing past the limit is kept.
 */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | 'tooLarge'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.resolve('tooLarge');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.pause();
      resolve('tooLarge');
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** How long a refused caller may go on sending (read and dropped) before its connection is cut. */
const LINGER_MS = 1_000;

/**
 * Answers without keeping (the rest of) the body: the connection closes once the answer is out.
 * Until then, and for LINGER_MS, what the caller still sends is read and dropped: closing a socket
 * with unread bytes sends a reset, which can destroy the answer before the caller reads it.
 */
function refuseUnread(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  status: number,
  body?: string,
): void {
  const headers: Record<string, string> = { Connection: 'close' };
  if (body !== undefined) headers['Content-Type'] = 'application/json; charset=utf-8';
  res.writeHead(status, headers);
  if (req.complete) {
    res.end(body);
    return;
  }
  req.removeAllListeners('data');
  req.resume();
  res.end(body, () => {
    const cut = setTimeout(() => req.socket.destroy(), LINGER_MS);
    cut.unref();
    req.socket.once('close', () => clearTimeout(cut));
  });
}
