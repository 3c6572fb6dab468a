import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxResponse } from './errors';
import { stringify } from './json';

/** Request ids every answer echoes. */
export interface RequestIds {
  requestId: string;
  correlationId: string;
  cv: string;
}

export function requestIds(req: IncomingMessage): RequestIds {
  const header = (name: string) => {
    const value = req.headers[name];
    return (Array.isArray(value) ? value[0] : value) || undefined;
  };
  const cv = header('ms-cv');
  return {
    requestId: header('ms-requestid') ?? randomUUID(),
    correlationId: header('ms-correlationid') ?? randomUUID(),
    // A correlation vector is extended by each hop, so an incoming one gains a ".0".
    cv: cv ? `${cv}.0` : `${randomBytes(12).toString('base64')}.0`,
  };
}

const SERVER_ID = '101178625';
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** How a body reaches the client; everything but "whole" is an injected fault. */
export type Delivery = 'whole' | 'truncated' | 'malformed' | 'slowBody';

export interface WriteOptions {
  bom: boolean;
  delivery: Delivery;
  slowBodyMs: number;
  /** Runs `fn` after `ms`, unless the sandbox closes first. */
  later(ms: number, fn: () => void): void;
}

/** Writes a response; resolves once the last byte is handed to the socket (or it is cut). */
export function writeResponse(
  res: ServerResponse,
  response: SandboxResponse,
  ids: RequestIds,
  options: WriteOptions,
): Promise<void> {
  const text = stringify(response.body);
  const json = Buffer.from(options.delivery === 'malformed' ? malform(text) : text, 'utf8');
  const body = (response.bom ?? options.bom) ? Buffer.concat([BOM, json]) : json;
  res.on('error', () => undefined);
  res.writeHead(response.status, {
    'Content-Type': 'application/json; charset=utf-8',
    'MS-RequestId': ids.requestId,
    'MS-CorrelationId': ids.correlationId,
    'MS-CV': ids.cv,
    'MS-ServerId': SERVER_ID,
    ...response.headers,
    'Content-Length': String(body.length),
  });
  return new Promise((resolve) => {
    if (options.delivery === 'truncated') {
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
        res.socket?.destroy();
        resolve();
      });
    } else if (options.delivery === 'slowBody') {
      const cut = Math.floor(body.length / 4);
      res.write(body.subarray(0, cut));
      options.later(options.slowBodyMs, () => res.end(body.subarray(cut), resolve));
    } else {
      res.end(body, resolve);
    }
  });
}

/** Half of the JSON text and then something no JSON parser accepts. */
function malform(text: string): string {
  return `${text.slice(0, Math.floor(text.length / 2))}<!-- upstream error -->`;
}

/** A request body as text; at most 64 KiB is read (no sandbox endpoint takes more). */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
