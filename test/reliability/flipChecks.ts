import { RestError, type TableClient } from '@azure/data-tables';
import type { TableClients } from '../../src/storage/tableClients';
import type { UsageReader } from '../../src/domain/usageReader';
import type { Answer } from './readHost';

/** One customer and the subscriptions a poller asks for. */
export interface Target {
  customerId: string;
  subscriptionIds: string[];
}

/** Snapshot facts of one read: which run and moment it is from, or its status when not found. */
export interface Seen {
  status: number;
  runId?: string | null;
  takenAt?: string | null;
}

/** Problems found so far: a server error, or a subscription newer than (or torn from) its customer. */
export interface FlipReport {
  polls: number;
  flipsSeen: number;
  problems: string[];
}

/**
 * Reads a customer (A), each of its subscriptions' resources (R), and the customer again (B). A
 * subscription may never be newer than its customer (R's run after B's), and when the customer
 * did not change in between (A = B), every subscription found is from exactly that commit.
 */
export function checkFlip(target: Target, a: Seen, resources: Seen[], b: Seen, report: FlipReport): void {
  report.polls++;
  for (const [what, seen] of [
    ['customer', a],
    ['customer', b],
    ...resources.map((r) => ['resources', r] as const),
  ] as const)
    if (seen.status >= 500) report.problems.push(`${target.customerId}: ${what} answered ${seen.status}`);
  if (a.runId !== b.runId || a.takenAt !== b.takenAt) report.flipsSeen++;
  for (const [i, r] of resources.entries()) {
    if (r.status !== 200) continue;
    const where = `${target.customerId}/${target.subscriptionIds[i]}`;
    if (b.status !== 200 || (r.runId ?? '') > (b.runId ?? ''))
      report.problems.push(`${where}: resources of run ${r.runId} newer than its customer's ${b.runId}`);
    else if (a.status === 200 && a.runId === b.runId && a.takenAt === b.takenAt)
      if (r.runId !== a.runId || r.takenAt !== a.takenAt)
        report.problems.push(
          `${where}: resources of ${r.runId}@${r.takenAt}, customer of ${a.runId}@${a.takenAt}`,
        );
  }
}

const DETAIL_ROUTES = ['resources', 'resource-groups', 'meters'] as const;

/** Polls `targets` over HTTP until `done()`; what it found is in the report. */
export async function pollOverHttp(
  get: (path: string) => Promise<Answer>,
  targets: readonly Target[],
  done: () => boolean,
): Promise<FlipReport> {
  const report: FlipReport = { polls: 0, flipsSeen: 0, problems: [] };
  const seen = (x: Answer): Seen => ({ status: x.status, runId: x.runId, takenAt: x.takenAt });
  do {
    for (const t of targets) {
      const base = `/api/v1/customers/${t.customerId}`;
      const a = seen(await get(`${base}/subscriptions`));
      const resources: Seen[] = [];
      // Each subscription's resources and its Azure-plan detail: parts of the same customer commit.
      const parts = t.subscriptionIds.flatMap((s) => DETAIL_ROUTES.map((route) => `${s}/${route}`));
      for (const part of parts) resources.push(seen(await get(`${base}/subscriptions/${part}`)));
      checkFlip(
        { ...t, subscriptionIds: parts },
        a,
        resources,
        seen(await get(`${base}/subscriptions`)),
        report,
      );
    }
  } while (!done());
  return report;
}

/** The same poll through the storage reader (the API's port): a thrown error counts as a 500. */
export async function pollReader(
  reader: UsageReader,
  targets: readonly Target[],
  done: () => boolean,
): Promise<FlipReport> {
  const report: FlipReport = { polls: 0, flipsSeen: 0, problems: [] };
  const guard = async (read: () => Promise<Seen>): Promise<Seen> => {
    try {
      return await read();
    } catch (error) {
      report.problems.push(`read failed: ${(error as Error).message.slice(0, 200)}`);
      return { status: 500 };
    }
  };
  const customer = (id: string) =>
    guard(async () => {
      const c = await reader.getCustomer(id);
      return c.status === 'found' ? { status: 200, ...c.value.snapshot } : { status: 404 };
    });
  do {
    for (const t of targets) {
      const a = await customer(t.customerId);
      const resources: Seen[] = [];
      for (const s of t.subscriptionIds)
        resources.push(
          await guard(async () => {
            const r = await reader.getSubscriptionResources(t.customerId, s);
            return r.status === 'found' ? { status: 200, ...r.value.snapshot } : { status: 404 };
          }),
        );
      checkFlip(t, a, resources, await customer(t.customerId), report);
    }
  } while (!done());
  return report;
}

/**
 * Table clients whose transactions in the Customers table are refused (400, as Table Storage
 * refuses a write it will not take) while `refuse()` says so: a customer's write fails part-way.
 */
export function refusingTables(tables: TableClients, refuse: (batch: number) => boolean): TableClients {
  let batches = 0;
  const wrap = (client: TableClient): TableClient =>
    new Proxy(client, {
      get: (target, name) => {
        const value = Reflect.get(target, name) as unknown;
        if (name !== 'submitTransaction' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          if (refuse(++batches))
            throw new RestError('The storage service refused the transaction (injected).', {
              code: 'InvalidInput',
              statusCode: 400,
            });
          return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      },
    });
  return {
    service: tables.service,
    tableName: (suffix) => tables.tableName(suffix),
    table: (suffix) => (suffix === 'Customers' ? wrap(tables.table(suffix)) : tables.table(suffix)),
  };
}
