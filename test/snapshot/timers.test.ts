import { InvocationContext, type Timer } from '@azure/functions';
import { resetDependencies } from '../../src/app/dependencies';
import { resetSettingsCache } from '../../src/config/settings';
import { registeredFunctions, triggerOf } from '../../dev/localHost/functionsCore';
import { startSandbox, type Sandbox } from '../../dev/sandbox';
import { azuriteConnectionString, uniqueTablePrefix } from '../support/tables';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ customers: 10 });
  Object.assign(process.env, {
    STORAGE_CONNECTION_STRING: azuriteConnectionString(),
    TABLE_NAME_PREFIX: uniqueTablePrefix('tm'),
    PARTNER_CENTER_BASE_URL: sandbox.baseUrl,
    PARTNER_CENTER_AUTHORITY_HOST: sandbox.baseUrl,
    PARTNER_CENTER_TENANT_ID: sandbox.credentials.tenantId,
    PARTNER_CENTER_CLIENT_ID: sandbox.credentials.clientId,
    PARTNER_CENTER_CLIENT_SECRET: sandbox.credentials.clientSecret,
    PARTNER_CENTER_REFRESH_TOKEN: sandbox.credentials.refreshToken,
    PARTNER_CENTER_REQUESTS_PER_MINUTE: '100000',
  });
  resetSettingsCache();
  resetDependencies();
});
afterAll(() => sandbox.close());

const context = (name: string) => new InvocationContext({ functionName: name });
const timer: Timer = {
  isPastDue: false,
  schedule: { adjustForDST: false },
  scheduleStatus: { last: '', next: '', lastUpdated: '' },
};

test('when the app registers its timers, then each runs on its %SETTING% schedule with runOnStartup off', async () => {
  const { registerFunctions } = await import('../../src/functions/register');
  registerFunctions({ only: ['snapshotTimer', 'snapshotResumeTimer', 'retentionTimer'] });
  const schedules = Object.fromEntries(
    registeredFunctions().map((fn) => [
      fn.name,
      [triggerOf(fn).schedule, triggerOf(fn).runOnStartup ?? false],
    ]),
  );
  expect(schedules).toMatchObject({
    snapshotTimer: ['%SNAPSHOT_SCHEDULE%', false],
    snapshotResumeTimer: ['%SNAPSHOT_RESUME_SCHEDULE%', false],
    retentionTimer: ['%RETENTION_SCHEDULE%', false],
  });
});

test('when the snapshot timer fires, then a run completes through the composition root; the resume and retention timers then find nothing to do', async () => {
  const { snapshotTimerHandler, snapshotResumeTimerHandler, retentionTimerHandler } =
    await import('../../src/functions/timerFunctions');
  const { dependencies } = await import('../../src/app/dependencies');
  await snapshotTimerHandler(timer, context('snapshotTimer'));
  const [run] = await dependencies().usageStore.listRuns(1);
  expect(run).toMatchObject({ state: 'succeeded', trigger: 'timer', counts: { customersWritten: 10 } });
  await snapshotResumeTimerHandler(timer, context('snapshotResumeTimer'));
  await retentionTimerHandler(timer, context('retentionTimer'));
  expect(await dependencies().usageStore.listRuns(10)).toHaveLength(1);
  expect(
    (await dependencies().usageStore.listCustomers({ filter: {}, limit: 100 }))?.page.items,
  ).toHaveLength(10);
});
