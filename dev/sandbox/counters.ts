import type { FaultKind } from './faults';
import type { GrantType } from './tokens';

/** Counts since start or the last reset. */
export interface CounterSnapshot {
  /** By route template ("GET /v1/customers/{customerId}/usagesummary") then status ("200", or "reset"). */
  requests: Record<string, Record<string, number>>;
  totalRequests: number;
  throttled: number;
  tokensIssued: Record<GrantType, number>;
  faults: Partial<Record<FaultKind, number>>;
}

export class Counters {
  private state = Counters.empty();

  private static empty(): CounterSnapshot {
    return {
      requests: {},
      totalRequests: 0,
      throttled: 0,
      tokensIssued: { refresh_token: 0, client_credentials: 0 },
      faults: {},
    };
  }

  request(route: string, status: string): void {
    const byStatus = (this.state.requests[route] ??= {});
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    this.state.totalRequests++;
    if (status === '429') this.state.throttled++;
  }

  tokenIssued(grant: GrantType): void {
    this.state.tokensIssued[grant]++;
  }

  fault(kind: FaultKind): void {
    this.state.faults[kind] = (this.state.faults[kind] ?? 0) + 1;
  }

  snapshot(): CounterSnapshot {
    return structuredClone(this.state);
  }

  reset(): void {
    this.state = Counters.empty();
  }
}
