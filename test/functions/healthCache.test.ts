import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalHost } from '../../dev/localHost/host';
import { FAKE_VAULT_TOKEN, startKeyVaultFake, type KeyVaultFake } from '../support/keyVaultFake';
import { startManagedIdentityFake, type ManagedIdentityFake } from '../support/managedIdentityFake';
import { azuriteConnectionString } from '../support/tables';
import { MANAGED_IDENTITY_CLIENT_ID, serveAsInAzure } from './support/asInAzure';

/**
 * The health route as in Azure (managed identity by client id, Key Vault, Table Storage), over
 * HTTP: callers within the cache window share one probe, so they add no Key Vault or Table
 * request. Table requests are counted by a loopback proxy in front of the real Azurite.
 */
let vault: KeyVaultFake;
let identity: ManagedIdentityFake;
let host: LocalHost;
let proxy: http.Server;
let tableRequests = 0;

beforeAll(async () => {
  vault = await startKeyVaultFake();
  vault.seed('partner-center-client-secret', 'health-cache-client-secret');
  identity = await startManagedIdentityFake(FAKE_VAULT_TOKEN);
  const azurite = azuriteConnectionString();
  const target = new URL(/TableEndpoint=([^;]+)/.exec(azurite)?.[1] ?? '');
  proxy = http.createServer((req, res) => {
    tableRequests++;
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxied = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  host = await serveAsInAzure({
    identity,
    vaultUrl: vault.vaultUrl,
    storageConnectionString: azurite.replace(target.origin, proxied),
    load: () => import('../../src/index'),
  });
});
afterAll(async () => {
  await host?.close();
  await new Promise((resolve) => proxy?.close(resolve));
  proxy?.closeAllConnections();
  await vault?.close();
  await identity?.close();
});

const health = async (query = '') => {
  const res = await fetch(`${host.url}/api/health${query}`);
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    body: (await res.json()) as { failed: string[] },
  };
};

test('when the first callers arrive together, then one probe answers them all, signed in with the managed identity', async () => {
  const first = await Promise.all(Array.from({ length: 50 }, () => health()));
  expect(first.map((r) => r.status)).toEqual(Array(50).fill(200));
  expect(first[0].type).toBe('application/json; charset=utf-8');
  // One read of the ping secret (after Key Vault's challenge round trip), one table listing.
  expect(vault.requests.filter((r) => r === 'GET /secrets/partner-center-client-secret')).toHaveLength(2);
  expect(vault.challenges()).toBe(1);
  expect(tableRequests).toBe(1);
  // The token came from the managed identity endpoint, for the user-assigned identity named.
  expect(identity.requests).toEqual([
    { resource: 'https://vault.azure.net', clientId: MANAGED_IDENTITY_CLIENT_ID },
  ]);
});

test('when health is called again within the cache window, then no Key Vault or Table request is made', async () => {
  const vaultBefore = vault.requests.length;
  const tablesBefore = tableRequests;
  for (let i = 0; i < 100; i++) expect((await health()).status).toBe(200);
  for (let i = 0; i < 100; i++) expect((await health('?probe=live')).status).toBe(200);
  expect(vault.requests.length).toBe(vaultBefore);
  expect(tableRequests).toBe(tablesBefore);
});

test('when probe names something else, then 400 InvalidQuery as JSON', async () => {
  const res = await health('?probe=deep');
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ error: { code: 'InvalidQuery' } });
});
