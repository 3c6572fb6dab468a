import type { Settings } from '../../src/config/settings';
import type { PartnerCenterClient } from '../../src/partnerCenter/partnerCenterClient';
import type { FaultKind, FaultSettings } from '../../dev/sandbox';
import type { ListRow } from './support';

/**
 * The per-request faults of the matrix: how the sandbox injects each one, the client settings that
 * make it a failure (a slow body only fails past the timeout), and the failure a customer is
 * recorded with when the fault outlasts the client's retries.
 */
export interface HttpFault {
  kind: FaultKind;
  label: string;
  extra?: Partial<FaultSettings>;
  client?: Partial<Settings['partnerCenter']>;
  failure: { code: string; status?: number };
  /**
   * The fault also lands on the normal 404/3000 "Customer does not have usage data." answer. Mangled,
   * it is a plain 404 (a non-2xx status is authoritative and not retried, see
   * docs/partner-center-client.md), so that customer fails with PartnerCenterHttp 404.
   */
  manglesNoUsageData?: boolean;
  /** What a run meets when one answer in ten has the fault. */
  transientOutcome: string;
}

const SUCCEEDS = 'each is retried and the run succeeds';

export const HTTP_FAULTS: readonly HttpFault[] = [
  {
    kind: 'status500',
    label: '500 answers',
    failure: { code: 'PartnerCenterHttp', status: 500 },
    transientOutcome: SUCCEEDS,
  },
  {
    kind: 'status503',
    label: '503 answers',
    failure: { code: 'PartnerCenterHttp', status: 503 },
    transientOutcome: SUCCEEDS,
  },
  {
    kind: 'reset',
    label: 'reset connections',
    failure: { code: 'PartnerCenterNetwork' },
    transientOutcome: SUCCEEDS,
  },
  {
    kind: 'truncated',
    label: 'truncated bodies',
    failure: { code: 'PartnerCenterNetwork' },
    transientOutcome: SUCCEEDS,
  },
  {
    kind: 'malformed',
    label: 'malformed JSON',
    failure: { code: 'ResponseShape' },
    manglesNoUsageData: true,
    transientOutcome:
      'each 2xx is retried and the run succeeds, or is partial only for customers whose no-usage-data 404 came mangled',
  },
  {
    kind: 'slowBody',
    label: 'slow bodies past the timeout',
    extra: { slowBodyMs: 1_500 },
    client: { timeoutMs: 400 },
    failure: { code: 'PartnerCenterTimeout' },
    transientOutcome: SUCCEEDS,
  },
];

/**
 * Checks a failed customer's recorded reason: the fault's own failure, or (for a fault that can
 * mangle it) the 404 of a customer that has no usage data.
 */
export async function expectFailureOf(fault: HttpFault, row: ListRow, truth: PartnerCenterClient) {
  if (fault.manglesNoUsageData && row.failureCode === 'PartnerCenterHttp') {
    expect(row.failureStatus).toBe(404);
    expect(await truth.getCustomerUsageSummary(row.customerId)).toBeUndefined();
    return;
  }
  expect({ code: row.failureCode, status: row.failureStatus }).toEqual(fault.failure);
}
