import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { PassThrough, type Readable } from 'node:stream';
import { USER_AGENT } from '../version';
import { RequestAbortedError } from '../partnerCenter/errors';
import { networkReason } from '../partnerCenter/transport';
import { GraphNetworkError } from './errors';

/**
 * A GET whose body is handed over as a stream once the status line is in (an export blob is tens
 * of MB). Like ../partnerCenter/transport.ts it returns plain outcomes, never Node's errors (they
 * would carry the URL, SAS included). No redirect is followed; nothing is decompressed (the blob
 * is gzip and its reader gunzips it, whatever Content-Encoding says).
 */
export type StreamOutcome =
  | { kind: 'response'; status: number; headers: Record<string, string>; body: IncomingMessage }
  | { kind: 'network'; reason: string }
  | { kind: 'timeout' }
  | { kind: 'aborted' };

const agents = {
  http: new HttpAgent({ keepAlive: true }),
  https: new HttpsAgent({ keepAlive: true }),
};

export function openStream(
  url: URL,
  options: { timeoutMs: number; signal?: AbortSignal; headers?: Record<string, string> },
): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    if (options.signal?.aborted) return resolve({ kind: 'aborted' });
    const https = url.protocol === 'https:';
    let timedOut = false;
    const request = (https ? httpsRequest : httpRequest)(
      url,
      {
        method: 'GET',
        agent: https ? agents.https : agents.http,
        headers: { 'User-Agent': USER_AGENT, ...options.headers },
      },
      (response) => {
        clearTimeout(timer);
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(response.headers)) {
          if (value !== undefined)
            headers[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
        }
        resolve({ kind: 'response', status: response.statusCode ?? 0, headers, body: response });
      },
    );
    const timer = setTimeout(() => {
      timedOut = true;
      request.destroy();
    }, options.timeoutMs);
    const onAbort = () => request.destroy();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    request.on('close', () => options.signal?.removeEventListener('abort', onAbort));
    request.on('error', (error) => {
      clearTimeout(timer);
      if (options.signal?.aborted) resolve({ kind: 'aborted' });
      else if (timedOut) resolve({ kind: 'timeout' });
      else resolve({ kind: 'network', reason: networkReason(error) });
    });
    request.end();
  });
}

/**
 * The body as a stream that fails with a typed error: GraphNetworkError (midBody) when the
 * connection is cut or falls silent for `idleTimeoutMs`, RequestAbortedError when `signal` fires.
 * Destroying the returned stream releases the connection.
 */
export function typedBody(
  body: IncomingMessage,
  options: { endpoint: string; attempts: number; idleTimeoutMs: number; signal?: AbortSignal },
): Readable {
  const out = new PassThrough();
  let ended = false;
  const fail = (reason: string) => {
    if (out.destroyed) return;
    out.destroy(
      options.signal?.aborted
        ? new RequestAbortedError(options.endpoint)
        : new GraphNetworkError(options.endpoint, reason, options.attempts, true),
    );
  };
  const onAbort = () => body.destroy();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  body.setTimeout(options.idleTimeoutMs, () => {
    fail(`no data for ${options.idleTimeoutMs} ms`);
    body.destroy();
  });
  body.on('end', () => {
    ended = true;
  });
  body.on('error', (error) => fail(networkReason(error)));
  body.on('close', () => {
    options.signal?.removeEventListener('abort', onAbort);
    if (!ended) fail('the connection closed before the end of the body');
  });
  out.on('close', () => {
    if (!ended) body.destroy();
  });
  body.pipe(out);
  return out;
}

/** Reads a (small) error body as text, at most 16 KiB; never throws. */
export async function readSmallBody(body: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > 16 * 1024) break;
      chunks.push(chunk as Buffer);
    }
  } catch {
    // A cut error body still leaves its status to act on.
  }
  body.destroy();
  return Buffer.concat(chunks).toString('utf8');
}
