import { registeredFunctions } from '../../dev/localHost/functionsCore';
import type { LocalHost } from '../../dev/localHost/host';
import { FAKE_VAULT_TOKEN, startKeyVaultFake, type KeyVaultFake } from '../support/keyVaultFake';
import { startManagedIdentityFake, type ManagedIdentityFake } from '../support/managedIdentityFake';
import { azuriteConnectionString } from '../support/tables';
import { serveAsInAzure } from './support/asInAzure';

/**
 * The anonymous health route against a Key Vault that accepts connections and never answers
 * (issue 15: each call used to leave one socket open). The app runs as in Azure: its managed
 * identity, its own composition root, served over HTTP by the local host.
 */
let vault: KeyVaultFake;
let identity: ManagedIdentityFake;
let host: LocalHost;

beforeAll(async () => {
  vault = await startKeyVaultFake();
  vault.neverAnswer(true);
  identity = await startManagedIdentityFake(FAKE_VAULT_TOKEN);
  host = await serveAsInAzure({
    identity,
    vaultUrl: vault.vaultUrl,
    storageConnectionString: azuriteConnectionString(),
    load: async () => (await import('../../src/functions/register')).registerFunctions({ only: ['health'] }),
  });
  expect(registeredFunctions().map((f) => f.name)).toEqual(['health']);
});
afterAll(async () => {
  await host?.close();
  await vault?.close();
  await identity?.close();
});

test('when 2,000 health calls meet a Key Vault that never answers, then the vault sees a bounded number of sockets and none stays open', async () => {
  const CALLS = 2_000;
  const PARALLEL = 200;
  const statuses = new Map<number, number>();
  let next = 0;
  const caller = async () => {
    while (next < CALLS) {
      next++;
      const res = await fetch(`${host.url}/api/health`);
      const body = (await res.json()) as { failed: string[] };
      expect(body.failed).toEqual(['secretStore']);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, caller));
  expect(Object.fromEntries(statuses)).toEqual({ 503: CALLS });

  // One probe round, shared by every caller and cached: one request, one socket, then cancelled.
  expect(vault.requests.length).toBeLessThanOrEqual(2);
  expect(vault.connectionsAccepted()).toBeLessThanOrEqual(2);
  const deadline = Date.now() + 2_000;
  while (vault.openConnections() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(vault.openConnections()).toBe(0);
}, 120_000);

test('when liveness is asked while the vault hangs, then it answers at once without touching the vault', async () => {
  const before = vault.connectionsAccepted();
  const started = Date.now();
  const res = await fetch(`${host.url}/api/health?probe=live`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(((await res.json()) as { status: string }).status).toBe('ok');
  expect(Date.now() - started).toBeLessThan(1_000);
  expect(vault.connectionsAccepted()).toBe(before);
});
