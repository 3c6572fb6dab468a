import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Sandbox } from '../../dev/sandbox';

export const PC_SCOPE = 'https://api.partnercenter.microsoft.com/user_impersonation offline_access';

/** A Partner Center answer, kept as bytes so tests can look at the BOM and the raw digits. */
export interface PcResponse {
  status: number;
  headers: Headers;
  bytes: Buffer;
  /** The body text without a leading BOM. */
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export async function pcGet(
  sandbox: Sandbox,
  uri: string,
  options: { token?: string; headers?: Record<string, string> } = {},
): Promise<PcResponse> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const response = await fetch(`${sandbox.baseUrl}${uri}`, { headers });
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = stripBom(bytes).toString('utf8');
  return {
    status: response.status,
    headers: response.headers,
    bytes,
    text,
    body: text ? JSON.parse(text) : undefined,
  };
}

export function stripBom(bytes: Buffer): Buffer {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

/** Follows links.next to the end of a collection; the path is relative to /v1 like next.uri. */
export async function walk(sandbox: Sandbox, uri: string, token: string): Promise<PcResponse[]> {
  const pages: PcResponse[] = [];
  let next: { uri: string; headers: { key: string; value: string }[] } | undefined = { uri, headers: [] };
  while (next) {
    const headers = Object.fromEntries(next.headers.map((h) => [h.key, h.value]));
    const page = await pcGet(sandbox, `/v1${next.uri}`, { token, headers });
    if (page.status !== 200) throw new Error(`page ${pages.length} of ${uri}: ${page.status} ${page.text}`);
    pages.push(page);
    next = page.body.links?.next;
    if (pages.length > 10_000) throw new Error('paging does not end');
  }
  return pages;
}

export async function tokenRequest(
  sandbox: Sandbox,
  form: Record<string, string>,
  tenant = sandbox.credentials.tenantId,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${sandbox.baseUrl}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export function refreshGrant(sandbox: Sandbox, refreshToken: string, overrides: Record<string, string> = {}) {
  return tokenRequest(sandbox, {
    grant_type: 'refresh_token',
    client_id: sandbox.credentials.clientId,
    client_secret: sandbox.credentials.clientSecret,
    refresh_token: refreshToken,
    scope: PC_SCOPE,
    ...overrides,
  });
}

/** Every raw number literal written for `key`, in order, straight from the JSON text. */
export function rawNumbers(text: string, key: string): string[] {
  return [...text.matchAll(new RegExp(`"${key}":(-?[0-9.eE+-]+)`, 'g'))].map((m) => m[1]);
}

/** Decimal text to an exact count of 10^-scale units. */
export function toUnits(decimal: string, scale = 18): bigint {
  const [whole, fraction = ''] = decimal.split('.');
  return BigInt(whole + fraction.padEnd(scale, '0').slice(0, scale));
}

export function significantDigits(decimal: string): number {
  return decimal.replace('.', '').replace(/^0+/, '').length;
}

export function fixture(name: string): string {
  return readFileSync(path.join(__dirname, 'fixtures', name), 'utf8').trim();
}

/**
 * The ordered field paths and JSON types of a value, e.g. "budget.amount:number". Items of
 * `items` arrays are left out (they are compared as objects of their own).
 */
export function signature(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) {
    const out = [`${prefix}:array`];
    if (prefix !== 'items' && value.length > 0) out.push(...signature(value[0], `${prefix}[]`));
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out = prefix ? [`${prefix}:object`] : [];
    for (const [key, member] of Object.entries(value))
      out.push(...signature(member, prefix ? `${prefix}.${key}` : key));
    return out;
  }
  return [`${prefix}:${value === null ? 'null' : typeof value}`];
}

export interface RawOutcome {
  kind: 'reset' | 'truncated' | 'complete';
  status?: number;
  body?: Buffer;
  elapsedMs: number;
  /** From the first body byte to the last: long only when the body stalled midway. */
  bodyMs?: number;
}

/** A GET with node:http, reporting resets and cut bodies that fetch would only throw on. */
export function rawGet(sandbox: Sandbox, uri: string, token: string): Promise<RawOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const request = http.get(
      `${sandbox.baseUrl}${uri}`,
      { headers: { Authorization: `Bearer ${token}` }, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        let firstByteAt: number | undefined;
        response.on('data', (chunk: Buffer) => {
          firstByteAt ??= Date.now();
          chunks.push(chunk);
        });
        response.on('end', () => {
          const body = Buffer.concat(chunks);
          const complete = response.complete && body.length === Number(response.headers['content-length']);
          resolve({
            kind: complete ? 'complete' : 'truncated',
            status: response.statusCode,
            body,
            elapsedMs: Date.now() - started,
            bodyMs: Date.now() - (firstByteAt ?? Date.now()),
          });
        });
        response.on('error', () => {
          resolve({ kind: 'truncated', status: response.statusCode, elapsedMs: Date.now() - started });
        });
      },
    );
    request.on('error', () => resolve({ kind: 'reset', elapsedMs: Date.now() - started }));
  });
}
