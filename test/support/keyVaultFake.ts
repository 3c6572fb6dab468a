import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { AccessToken, TokenCredential } from '@azure/identity';

/**
 * A loopback Key Vault speaking enough of the secrets REST protocol for the real
 * @azure/keyvault-secrets SDK: GET/PUT /secrets/{name}[/{version}]?api-version=..., versions kept
 * per secret, Key Vault's error bodies, and challenge authentication (an unauthenticated request
 * gets 401 + WWW-Authenticate naming the authority and resource; then a bearer token is required).
 */
export interface KeyVaultFake {
  /** e.g. http://127.0.0.1:51234 */
  readonly vaultUrl: string;
  /** Every version of `name`, oldest first. */
  versions(name: string): string[];
  /** The current value, as a test seeds or inspects it. */
  current(name: string): string | undefined;
  seed(name: string, value: string): void;
  /** Makes PUT answer 503 (true) or work again (false). */
  failWrites(fail: boolean): void;
  /** Requests as "METHOD /path", in order (challenge round trips included). */
  readonly requests: string[];
  /** Requests answered 401 with the challenge. */
  challenges(): number;
  /** Authorization headers seen on authenticated requests. */
  readonly authorizations: string[];
  /** Makes every request (true) hang without an answer, as a vault that never answers would. */
  neverAnswer(hang: boolean): void;
  /** TCP connections accepted so far. */
  connectionsAccepted(): number;
  /** TCP connections open now (a client that gave up but kept its socket still counts). */
  openConnections(): number;
  close(): Promise<void>;
}

export const FAKE_VAULT_TOKEN = 'fake-vault-access-token-0123456789';
export const FAKE_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';

interface Version {
  id: string;
  value: string;
  contentType?: string;
  created: number;
}

export async function startKeyVaultFake(options: { token?: string } = {}): Promise<KeyVaultFake> {
  const token = options.token ?? FAKE_VAULT_TOKEN;
  const secrets = new Map<string, Version[]>();
  const requests: string[] = [];
  const authorizations: string[] = [];
  let challenges = 0;
  let failingWrites = false;
  let hanging = false;
  let vaultUrl = '';

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'x-ms-request-id': randomBytes(8).toString('hex'),
      'Content-Length': String(Buffer.byteLength(text)),
      ...headers,
    });
    res.end(text);
  };
  const error = (res: ServerResponse, status: number, code: string, message: string) =>
    send(res, status, { error: { code, message } });
  const bundle = (name: string, version: Version) => ({
    value: version.value,
    contentType: version.contentType,
    id: `${vaultUrl}/secrets/${name}/${version.id}`,
    attributes: {
      enabled: true,
      created: Math.floor(version.created / 1000),
      updated: Math.floor(version.created / 1000),
      recoveryLevel: 'Recoverable+Purgeable',
      recoverableDays: 90,
    },
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://vault');
    requests.push(`${req.method} ${url.pathname.replace(/\/$/, '')}`);
    if (hanging) return;
    if (!url.searchParams.get('api-version')) {
      return error(res, 400, 'BadParameter', 'The api-version query parameter is missing.');
    }
    const authorization = req.headers.authorization;
    if (!authorization) {
      challenges++;
      return send(
        res,
        401,
        { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } },
        {
          'WWW-Authenticate': `Bearer authorization="https://login.microsoftonline.com/${FAKE_TENANT}", resource="https://vault.azure.net"`,
        },
      );
    }
    authorizations.push(authorization);
    if (authorization !== `Bearer ${token}`) {
      return error(res, 401, 'Unauthorized', 'AKV10032: Invalid issuer.');
    }
    const match = /^\/secrets\/([0-9a-zA-Z-]{1,127})(?:\/([0-9a-f]{32}))?\/?$/.exec(url.pathname);
    if (!match) return error(res, 404, 'NotFound', 'The requested resource was not found.');
    const [, name, versionId] = match;

    if (req.method === 'GET') {
      const versions = secrets.get(name) ?? [];
      const version = versionId ? versions.find((v) => v.id === versionId) : versions.at(-1);
      if (!version) {
        return error(
          res,
          404,
          'SecretNotFound',
          `A secret with (name/id) ${name}${versionId ? `/${versionId}` : ''} was not found in this key vault.`,
        );
      }
      return send(res, 200, bundle(name, version));
    }
    if (req.method === 'PUT' && !versionId) {
      if (failingWrites)
        return error(res, 503, 'ServiceUnavailable', 'The service is temporarily unavailable.');
      let parsed: { value?: unknown; contentType?: unknown };
      try {
        parsed = JSON.parse(body) as typeof parsed;
      } catch {
        return error(res, 400, 'BadParameter', 'The request body is not JSON.');
      }
      if (typeof parsed.value !== 'string')
        return error(res, 400, 'BadParameter', 'Property value is required.');
      const version: Version = {
        id: randomBytes(16).toString('hex'),
        value: parsed.value,
        contentType: typeof parsed.contentType === 'string' ? parsed.contentType : undefined,
        created: Date.now(),
      };
      secrets.set(name, [...(secrets.get(name) ?? []), version]);
      return send(res, 200, bundle(name, version));
    }
    return error(res, 405, 'MethodNotAllowed', 'The method is not allowed.');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  const open = new Set<Socket>();
  let accepted = 0;
  server.on('connection', (socket: Socket) => {
    accepted++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  vaultUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const put = (name: string, value: string) =>
    secrets.set(name, [
      ...(secrets.get(name) ?? []),
      { id: randomBytes(16).toString('hex'), value, created: Date.now() },
    ]);

  return {
    vaultUrl,
    versions: (name) => (secrets.get(name) ?? []).map((v) => v.value),
    current: (name) => secrets.get(name)?.at(-1)?.value,
    seed: put,
    failWrites: (fail) => {
      failingWrites = fail;
    },
    requests,
    challenges: () => challenges,
    authorizations,
    neverAnswer: (hang) => {
      hanging = hang;
    },
    connectionsAccepted: () => accepted,
    openConnections: () => open.size,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The SDK's credential interface with a fixed token; records the scopes and tenants asked for. */
export function fixedTokenCredential(token = FAKE_VAULT_TOKEN): TokenCredential & {
  calls: { scopes: string[]; tenantId?: string }[];
} {
  const calls: { scopes: string[]; tenantId?: string }[] = [];
  return {
    calls,
    async getToken(scopes, options): Promise<AccessToken> {
      calls.push({ scopes: Array.isArray(scopes) ? scopes : [scopes], tenantId: options?.tenantId });
      return { token, expiresOnTimestamp: Date.now() + 3600_000 };
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
