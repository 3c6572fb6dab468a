import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The App Service managed identity endpoint at its wire protocol (IDENTITY_ENDPOINT with the
 * X-IDENTITY-HEADER secret, api-version 2019-08-01), as the platform runs it beside every Functions
 * instance. The real ManagedIdentityCredential finds it through the two environment variables.
 */
export interface ManagedIdentityFake {
  /** Set as IDENTITY_ENDPOINT and IDENTITY_HEADER. */
  readonly env: { IDENTITY_ENDPOINT: string; IDENTITY_HEADER: string };
  /** Each token request's resource and client_id, in order. */
  readonly requests: { resource: string | null; clientId: string | null }[];
  close(): Promise<void>;
}

export async function startManagedIdentityFake(token: string): Promise<ManagedIdentityFake> {
  const header = 'fake-identity-header-0123456789';
  const requests: ManagedIdentityFake['requests'] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://identity');
    const send = (status: number, body: unknown) =>
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    if (req.headers['x-identity-header'] !== header) {
      return send(401, { error: 'unauthorized', error_description: 'X-IDENTITY-HEADER is missing' });
    }
    if (url.searchParams.get('api-version') !== '2019-08-01') {
      return send(400, { error: 'invalid_request', error_description: 'api-version' });
    }
    const resource = url.searchParams.get('resource');
    const clientId = url.searchParams.get('client_id');
    requests.push({ resource, clientId });
    send(200, {
      access_token: token,
      expires_on: String(Math.floor(Date.now() / 1000) + 3600),
      resource,
      token_type: 'Bearer',
      client_id: clientId,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    env: { IDENTITY_ENDPOINT: `http://127.0.0.1:${port}/msi/token`, IDENTITY_HEADER: header },
    requests,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
