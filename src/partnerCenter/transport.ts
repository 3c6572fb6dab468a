import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import axios, { type AxiosInstance } from 'axios';
import { decodeUtf8 } from './json';

/**
 * The one place axios is called. It returns plain outcomes, never axios errors: those hold the
 * request config, Authorization header included, and must not reach a log or a caller.
 */
export type Outcome =
  | { kind: 'response'; status: number; headers: Record<string, string>; text: string }
  | { kind: 'network'; reason: string }
  | { kind: 'timeout' }
  | { kind: 'aborted' };

export interface SendOptions {
  method: 'GET' | 'POST' | 'PATCH';
  url: string;
  headers: Record<string, string>;
  data?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** The process's HTTP client for Partner Center and Entra: keep-alive, no redirects followed. */
export function createHttp(): AxiosInstance {
  return axios.create({
    httpAgent: new HttpAgent({ keepAlive: true }),
    httpsAgent: new HttpsAgent({ keepAlive: true }),
    // A redirect would carry the bearer token to wherever it points; Partner Center sends none.
    maxRedirects: 0,
    responseType: 'arraybuffer',
    // Bodies are parsed by ./json.ts (losslessly); axios must leave them alone.
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
  });
}

export async function send(http: AxiosInstance, options: SendOptions): Promise<Outcome> {
  if (options.signal?.aborted) return { kind: 'aborted' };
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await http.request<ArrayBuffer | Uint8Array | string>({
      method: options.method,
      url: options.url,
      headers: options.headers,
      data: options.data,
      signal: controller.signal,
      responseType: 'arraybuffer',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
    });
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(response.headers as Record<string, unknown>)) {
      if (value !== undefined && value !== null) {
        headers[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
      }
    }
    return { kind: 'response', status: response.status, headers, text: decodeUtf8(response.data) };
  } catch (error) {
    if (options.signal?.aborted) return { kind: 'aborted' };
    if (timedOut) return { kind: 'timeout' };
    return { kind: 'network', reason: networkReason(error) };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** A short, token-free description of a transport failure, e.g. "ECONNRESET (socket hang up)". */
export function networkReason(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'network error';
  const { code, message } = error as { code?: unknown; message?: unknown };
  const short = typeof message === 'string' ? message.split('\n')[0].slice(0, 120) : undefined;
  if (typeof code === 'string' && short) return `${code} (${short})`;
  if (typeof code === 'string') return code;
  return short ?? 'network error';
}
