import { formatDecimal, startSandbox, type Sandbox } from '../../dev/sandbox';
import {
  fixture,
  pcGet,
  rawNumbers,
  signature,
  significantDigits,
  toUnits,
  walk,
  type PcResponse,
} from './support';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

let sandbox: Sandbox;
let token: string;

beforeAll(async () => {
  sandbox = await startSandbox({ customers: 80, seed: 7, now: '2025-03-17T09:30:00Z', freezeClock: true });
  token = sandbox.issueAccessToken();
});
afterAll(() => sandbox.close());

/** Every object the sandbox serves for its customers, grouped by attributes.objectType. */
async function collectObjects(): Promise<Map<string, unknown[]>> {
  const byType = new Map<string, unknown[]>();
  const add = (value: { attributes: { objectType: string }; items?: unknown[] }) => {
    const list = byType.get(value.attributes.objectType) ?? [];
    list.push(value);
    byType.set(value.attributes.objectType, list);
    for (const item of value.items ?? []) add(item as typeof value);
  };
  add((await pcGet(sandbox, '/v1/usagesummary', { token })).body);
  const [customers] = await walk(sandbox, '/customers/usagerecords', token);
  add(customers.body);
  for (const customer of sandbox.data.customers()) {
    const summary = await pcGet(sandbox, `/v1/customers/${customer.id}/usagesummary`, { token });
    if (summary.status === 200) add(summary.body);
    const [subscriptions] = await walk(
      sandbox,
      `/customers/${customer.id}/subscriptions/usagerecords`,
      token,
    );
    add(subscriptions.body);
    const legacy = customer.subscriptions.find((s) => s.resourceCount > 0 && customer.kind === 'legacy');
    if (legacy) {
      const [resources] = await walk(
        sandbox,
        `/customers/${customer.id}/subscriptions/${legacy.id}/usagerecords/resources`,
        token,
      );
      add(resources.body);
    }
  }
  return byType;
}

const FIXTURES = [
  'partner-usage-summary.txt',
  'customers-usage-records.txt',
  'customer-usage-summary.legacy.txt',
  'customer-usage-summary.azure-plan.txt',
  'subscriptions-usage-records.legacy.txt',
  'subscriptions-usage-records.azure-plan.txt',
  'resources-usage-records.txt',
];

function documentedObjects(): { name: string; objectType: string; value: unknown }[] {
  const out: { name: string; objectType: string; value: unknown }[] = [];
  for (const name of FIXTURES) {
    const body = JSON.parse(fixture(name));
    out.push({ name, objectType: body.attributes.objectType, value: body });
    body.items?.forEach((item: { attributes: { objectType: string } }, i: number) =>
      out.push({ name: `${name} item ${i}`, objectType: item.attributes.objectType, value: item }),
    );
  }
  return out;
}

describe('shapes', () => {
  let served: Map<string, unknown[]>;
  beforeAll(async () => {
    served = await collectObjects();
  });

  it.each(documentedObjects().map((d) => [d.name, d] as const))(
    'when the docs show %s, then the sandbox serves an object with exactly those fields in that order',
    (_name, documented) => {
      const wanted = signature(documented.value).join('\n');
      const candidates = (served.get(documented.objectType) ?? []).map((v) => signature(v).join('\n'));
      expect(candidates).toContain(wanted);
    },
  );

  it('when any object is served, then every field and type in it appears in a documented example', () => {
    const allowed = new Map<string, Set<string>>();
    for (const d of documentedObjects()) {
      const set = allowed.get(d.objectType) ?? new Set<string>();
      signature(d.value).forEach((field) => set.add(field));
      allowed.set(d.objectType, set);
    }
    // links.next is documented in the notes (paging) rather than in an example.
    const paging = [
      'links.next:object',
      'links.next.uri:string',
      'links.next.method:string',
      'links.next.headers:array',
    ];
    paging.push(
      'links.next.headers[]:object',
      'links.next.headers[].key:string',
      'links.next.headers[].value:string',
    );
    paging.forEach((field) => allowed.get('Collection')?.add(field));
    // customerSpendingBudget is a SpendingBudget ({amount?}) per the notes; no example shows one set.
    allowed.get('CustomerMonthlyUsageRecord')?.add('customerSpendingBudget.amount:number');
    for (const [objectType, values] of served) {
      for (const value of values) {
        const extra = signature(value).filter((field) => !allowed.get(objectType)?.has(field));
        expect({ objectType, extra }).toEqual({ objectType, extra: [] });
      }
    }
  });

  it('when an error is served, then it has the documented error body', async () => {
    const notFound = await pcGet(sandbox, '/v1/customers/00000000-0000-4000-8000-000000000000/usagesummary', {
      token,
    });
    expect(signature(notFound.body)).toEqual(signature(JSON.parse(fixture('error.txt'))));
    expect(notFound.body.source).toBe('PartnerFD');
  });
});

describe('wire details', () => {
  it('when a body is served, then it starts with a UTF-8 BOM that Content-Length counts', async () => {
    const response = await pcGet(sandbox, '/v1/usagesummary', { token });
    expect([...response.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(Number(response.headers.get('content-length'))).toBe(response.bytes.length);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('when the BOM is switched off, then bodies start with "{"', async () => {
    sandbox.setBom(false);
    try {
      const response = await pcGet(sandbox, '/v1/usagesummary', { token });
      expect(response.bytes[0]).toBe('{'.charCodeAt(0));
    } finally {
      sandbox.setBom(true);
    }
  });

  it('when MS-RequestId and MS-CorrelationId are sent, then they are echoed with MS-CV, MS-ServerId and Date', async () => {
    const response = await pcGet(sandbox, '/v1/usagesummary', {
      token,
      headers: { 'MS-RequestId': 'req-1', 'MS-CorrelationId': 'corr-1', 'MS-CV': 'abc.1' },
    });
    expect(response.headers.get('ms-requestid')).toBe('req-1');
    expect(response.headers.get('ms-correlationid')).toBe('corr-1');
    expect(response.headers.get('ms-cv')).toBe('abc.1.0');
    expect(response.headers.get('ms-serverid')).toBeTruthy();
    expect(Date.parse(response.headers.get('date') ?? '')).not.toBeNaN();
  });

  it('when no request ids are sent, then fresh GUIDs come back, on errors too', async () => {
    const response = await pcGet(sandbox, '/v1/customers/not-a-guid/usagesummary', { token });
    expect(response.headers.get('ms-requestid')).toMatch(GUID);
    expect(response.headers.get('ms-correlationid')).toMatch(GUID);
  });
});

describe('money', () => {
  let customers: PcResponse;
  beforeAll(async () => {
    [customers] = await walk(sandbox, '/customers/usagerecords', token);
  });

  it('when customers are listed, then each totalCost is written with the exact digits of the data', () => {
    const expected = [...sandbox.data.customers()].map((c) =>
      formatDecimal(sandbox.customerUsage(c.index).totalCost),
    );
    expect(rawNumbers(customers.text, 'totalCost')).toEqual(expected);
  });

  it('when costs are written, then most carry more significant digits than a double keeps', () => {
    const costs = rawNumbers(customers.text, 'totalCost').filter((c) => c !== '0');
    const long = costs.filter((c) => significantDigits(c) > 17 && String(Number(c)) !== c);
    expect(long.length).toBeGreaterThan(costs.length * 0.8);
  });

  it('when Azure-plan customers are listed, then usdTotalCost is exact and legacy ones write 0', () => {
    const items = customers.body.items as { isUpgraded: boolean }[];
    const usd = rawNumbers(customers.text, 'usdTotalCost');
    items.forEach((item, i) => {
      const usage = sandbox.customerUsage(i);
      expect(usd[i]).toBe(item.isUpgraded ? formatDecimal(usage.usdTotalCost) : '0');
    });
  });

  it('when a customer has subscriptions, then their costs add up exactly to the customer total', async () => {
    for (const customer of sandbox.data.customers(0, 30)) {
      const [page] = await walk(sandbox, `/customers/${customer.id}/subscriptions/usagerecords`, token);
      const sum = rawNumbers(page.text, 'totalCost').reduce((s, c) => s + toUnits(c), 0n);
      expect(sum).toBe(sandbox.customerUsage(customer.index).totalCost);
    }
  });

  it('when percentUsed is written, then it is totalCost / budget in percent with two decimals', () => {
    const items = customers.body.items as { budget: { amount?: number }; percentUsed: number }[];
    const percents = rawNumbers(customers.text, 'percentUsed');
    const totals = rawNumbers(customers.text, 'totalCost');
    items.forEach((item, i) => {
      if (item.budget.amount === undefined) return expect(percents[i]).toBe('0');
      const exact = (Number(totals[i]) / item.budget.amount) * 100;
      expect(Math.abs(Number(percents[i]) - exact)).toBeLessThanOrEqual(0.0051);
      expect(percents[i]).toMatch(/^\d+(\.\d{1,2})?$/);
    });
  });
});

describe('errors', () => {
  const customerWith = (test: (c: ReturnType<Sandbox['data']['customer']>) => boolean) => {
    const found = [...sandbox.data.customers()].find(test);
    if (!found) throw new Error('the seed has no such customer');
    return found;
  };

  it('when the customer is unknown, then 404 with code 60003', async () => {
    const response = await pcGet(
      sandbox,
      '/v1/customers/00000000-0000-4000-8000-000000000000/subscriptions/usagerecords',
      {
        token,
      },
    );
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ code: 60003, data: [], source: 'PartnerFD' });
  });

  it('when the customer id is not a GUID, then 400 with code 2000', async () => {
    const response = await pcGet(sandbox, '/v1/customers/contoso/usagesummary', { token });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      code: 2000,
      description: 'Tenant Id must be a GUID.',
      data: [],
      source: 'PartnerFD',
    });
  });

  it('when the subscription is unknown, then 404 with code 20003', async () => {
    const customer = customerWith((c) => c.subscriptions.length > 0);
    const uri = `/v1/customers/${customer.id}/subscriptions/00000000-0000-4000-8000-000000000000/usagerecords/resources`;
    const response = await pcGet(sandbox, uri, { token });
    expect(response.status).toBe(404);
    expect(response.body.code).toBe(20003);
  });

  it('when resources of an Azure plan are asked for, then 400 with a Partner Center error body', async () => {
    const customer = customerWith((c) => c.kind === 'azurePlan' && c.subscriptions.length > 0);
    const uri = `/v1/customers/${customer.id}/subscriptions/${customer.subscriptions[0].id}/usagerecords/resources`;
    const response = await pcGet(sandbox, uri, { token });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 2000, source: 'PartnerFD' });
  });

  it('when a customer has no usage, then its summary is 404/3000 and its subscription list is empty', async () => {
    const customer = customerWith((c) => c.subscriptions.length === 0);
    const summary = await pcGet(sandbox, `/v1/customers/${customer.id}/usagesummary`, { token });
    expect(summary.status).toBe(404);
    expect(summary.body).toMatchObject({ code: 3000, description: 'Customer does not have usage data.' });
    const [subscriptions] = await walk(
      sandbox,
      `/customers/${customer.id}/subscriptions/usagerecords`,
      token,
    );
    expect(subscriptions.body).toMatchObject({ totalCount: 0, items: [] });
  });

  it('when ids arrive in upper case, then they are found all the same', async () => {
    const customer = customerWith((c) => c.subscriptions.length > 0);
    const response = await pcGet(sandbox, `/v1/customers/${customer.id.toUpperCase()}/usagesummary`, {
      token,
    });
    expect(response.status).toBe(200);
  });

  it('when the route is unknown, then 404 with code 1000', async () => {
    const response = await pcGet(sandbox, '/v1/invoices', { token });
    expect(response.status).toBe(404);
    expect(response.body.code).toBe(1000);
  });
});
