import type { Sandbox } from '../../dev/sandbox';
import { atLeast, below, type Scenario } from '../harness';
import { countingLogger, runSnapshot, snapshotApp, startStack } from '../support/snapshotStack';

export interface PacingParams {
  customers: number;
  seed: number;
  /** Average per customer (the sandbox's recorded mix averages about 1.7). */
  subscriptionsPerCustomer: number;
  /** R: the sandbox's limit and the client's pace, requests per second. */
  requestsPerSecond: number;
  latencyMs: number;
  latencyJitterMs: number;
  /** Empty the sandbox's minute-sized burst allowance first, so the run meets the steady-state limit. */
  drainBurst: boolean;
  /** PARTNER_CENTER_MAX_CONCURRENCY and SNAPSHOT_CUSTOMER_CONCURRENCY (the app's defaults are 4 and 4). */
  maxConcurrency: number;
  customerConcurrency: number;
}

/**
 * Pacing: one snapshot against a sandbox limited to R requests per second, with the client set to
 * the same R. Efficiency = (usage requests ÷ R) ÷ wall time; the 429 share is the sandbox's own count.
 */
export const pacing: Scenario<PacingParams> = {
  name: 'pacing',
  description: 'snapshot wall time against requests ÷ R under a rate-limited sandbox; share of 429s',
  full: {
    customers: 300,
    seed: 8,
    subscriptionsPerCustomer: 3,
    requestsPerSecond: 20,
    latencyMs: 50,
    latencyJitterMs: 30,
    drainBurst: true,
    maxConcurrency: 4,
    customerConcurrency: 4,
  },
  smoke: {
    customers: 20,
    seed: 8,
    subscriptionsPerCustomer: 3,
    requestsPerSecond: 100,
    latencyMs: 5,
    latencyJitterMs: 5,
    drainBurst: false,
    maxConcurrency: 4,
    customerConcurrency: 4,
  },
  async run(params, log) {
    const perMinute = params.requestsPerSecond * 60;
    const stack = await startStack({
      customers: params.customers,
      seed: params.seed,
      subscriptionsPerCustomer: params.subscriptionsPerCustomer,
      limits: { partnerPerMinute: perMinute },
    });
    try {
      const drained = params.drainBurst ? await drainBurst(stack.sandbox, perMinute * 2) : 0;
      if (params.drainBurst) log(`  burst allowance drained with ${drained} requests`);
      stack.sandbox.faults.set({ latencyMs: params.latencyMs, latencyJitterMs: params.latencyJitterMs });
      stack.sandbox.counters.reset();

      const logger = countingLogger();
      const app = snapshotApp(
        {
          ...stack.env,
          PARTNER_CENTER_REQUESTS_PER_MINUTE: String(perMinute),
          PARTNER_CENTER_MAX_CONCURRENCY: String(params.maxConcurrency),
          SNAPSHOT_CUSTOMER_CONCURRENCY: String(params.customerConcurrency),
        },
        logger,
      );
      const { run, ms } = await runSnapshot(app, logger);
      const counters = stack.sandbox.counters.snapshot();
      let usageRequests = 0;
      for (const [route, byStatus] of Object.entries(counters.requests)) {
        if (!route.startsWith('GET /v1/')) continue;
        for (const count of Object.values(byStatus)) usageRequests += count;
      }
      const idealMs = (usageRequests / params.requestsPerSecond) * 1000;
      const efficiency = idealMs / ms;
      const throttledShare = usageRequests === 0 ? 0 : (counters.throttled / usageRequests) * 100;
      log(
        `  ${run.state}: ${usageRequests} usage requests (${counters.throttled} answered 429) in ${(ms / 1000).toFixed(1)} s; ideal ${(idealMs / 1000).toFixed(1)} s`,
      );
      return {
        scenario: 'pacing',
        description: this.description,
        parameters: params,
        figures: [
          { name: 'snapshot wall time', value: ms / 1000, unit: 's' },
          { name: 'ideal (usage requests ÷ R)', value: idealMs / 1000, unit: 's' },
          {
            name: 'efficiency (ideal ÷ wall)',
            value: efficiency,
            unit: 'ratio',
            ...atLeast(efficiency, 0.9),
          },
          { name: 'requests answered 429', value: throttledShare, unit: '%', ...below(throttledShare, 1) },
          { name: 'usage requests', value: usageRequests, unit: 'requests' },
          { name: 'achieved rate', value: usageRequests / (ms / 1000), unit: 'req/s' },
          { name: 'customers written', value: run.counts.customersWritten, unit: 'customers' },
          { name: 'subscriptions written', value: run.counts.subscriptionsWritten, unit: 'subscriptions' },
        ],
        notes: [
          `Tenant: ${params.customers} sandbox customers (seed ${params.seed}), each with 0 to ${2 * params.subscriptionsPerCustomer} subscriptions (average ${params.subscriptionsPerCustomer}); ${run.counts.subscriptionsWritten} subscriptions written.`,
          `R = ${params.requestsPerSecond}/s: sandbox limits.partnerPerMinute = PARTNER_CENTER_REQUESTS_PER_MINUTE = ${perMinute}; latency ${params.latencyMs} ms + uniform [0, ${params.latencyJitterMs}] ms on every usage call.`,
          'Usage requests = every request the sandbox counted on a /v1 route, 429s included (Partner Center counts retries against the limit too); token requests are not limited and not counted.',
          'Efficiency = (usage requests ÷ R) ÷ snapshot wall time; wall time runs from run creation to the finished run record (runSnapshotToCompletion), Table writes included.',
          params.drainBurst
            ? "The sandbox's bucket starts holding a minute of calls; it was emptied first, so the run meets the steady-state limit a long run meets (a fresh bucket would absorb this whole run and no 429 could happen)."
            : 'Burst allowance not drained (smoke): 429s cannot occur at this size.',
          `Client: PARTNER_CENTER_MAX_CONCURRENCY ${params.maxConcurrency}, SNAPSHOT_CUSTOMER_CONCURRENCY ${params.customerConcurrency}; retry waits as in production. Warnings logged by the client: ${logger.counts.warn}.`,
        ],
      };
    } finally {
      await stack.close();
    }
  },
};

/** Spends the partner bucket until the sandbox answers 429, so the run starts at the steady state. */
export async function drainBurst(sandbox: Sandbox, maxRequests: number): Promise<number> {
  const token = sandbox.issueAccessToken();
  let sent = 0;
  let throttled = false;
  const worker = async () => {
    while (!throttled && sent < maxRequests) {
      sent++;
      const res = await fetch(`${sandbox.baseUrl}/v1/usagesummary`, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      });
      await res.arrayBuffer();
      if (res.status === 429) throttled = true;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  if (!throttled) throw new Error(`the sandbox did not throttle within ${maxRequests} requests`);
  return sent;
}
