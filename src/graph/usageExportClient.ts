import type { Readable } from 'node:stream';
import type { Decimal } from '../domain/usage';

/**
 * Microsoft Graph's billed and unbilled daily rated usage export (see ../../../shared/partner-center.md,
 * "The daily rated usage export"): start an export, poll its operation, read the manifest, open
 * each blob. The client createUsageExportClient (./client.ts) returns implements this; the
 * pipeline depends on this interface only, so its tests may use the sandbox or a double.
 *
 * Every call is paced, retried within bounds (429 with Retry-After, 408, 5xx, network errors,
 * timeouts) and authenticated with an app-only token. Errors are typed (./errors.ts):
 * GraphError (HTTP error, with Graph's error code and request id), GraphResponseShapeError,
 * GraphTimeoutError, GraphNetworkError, ExportExpiredError (410 Gone or an expired SAS: start a
 * new export), RequestAbortedError, TokenRequestError. No error, log line or message of the
 * client holds a token or a SAS signature.
 */
export interface UsageExportClient {
  /** `POST /v1.0/reports/partners/billing/usage/{unbilled|billed}/export`; answers 202 + Location. */
  startExport(request: ExportRequest, options?: GraphCallOptions): Promise<ExportStarted>;
  /**
   * `GET /v1.0/reports/partners/billing/operations/{id}`. One request, no waiting for completion:
   * the caller (a later invocation) asks again after `retryAfterMs`.
   */
  getOperation(operationId: string, options?: GraphCallOptions): Promise<ExportOperation>;
  /**
   * The manifest of a succeeded operation: the inlined one as is (no request), or the one behind
   * `resourceLocation@odata.navigationLink` (one GET).
   */
  readManifest(operation: SucceededOperation, options?: GraphCallOptions): Promise<ExportManifest>;
  /**
   * Opens one blob: a GET of `blob.url` (rootDirectory/name?sas, no bearer token) that resolves
   * once the status line is in. `body` is the raw gzip-compressed JSON Lines stream; the caller
   * gunzips and splits it (see ./lineItem.ts parseUsageLineItem). A transport failure before the
   * status is retried like any request; one mid-body surfaces as a GraphNetworkError emitted by
   * `body` (the caller retries the whole blob). 403 with an expired SAS, or 410, throws
   * ExportExpiredError.
   */
  openBlob(blob: ExportBlobRef, options?: GraphCallOptions): Promise<ExportBlobStream>;
}

export interface GraphCallOptions {
  /** Sent as client-request-id's correlation (one per export run), for Microsoft support. */
  correlationId?: string;
  /** Cancels in-flight requests and pending retries. */
  signal?: AbortSignal;
}

export type BillingPeriod = 'current' | 'last';
export type AttributeSet = 'full' | 'basic';

export type ExportRequest =
  | {
      kind: 'unbilled';
      billingPeriod: BillingPeriod;
      /** ISO 4217, e.g. "USD". */
      currencyCode: string;
      /** Default "full" (tags, resource group and meter fields only come with it). */
      attributeSet?: AttributeSet;
    }
  | { kind: 'billed'; invoiceId: string; attributeSet?: AttributeSet };

export interface ExportStarted {
  /** The last path segment of the Location header. */
  operationId: string;
  /** The Location header as sent (absolute). */
  operationUrl: string;
  /** Retry-After of the 202, when sent. */
  retryAfterMs?: number;
}

interface OperationBase {
  operationId: string;
  createdDateTime?: string;
  lastActionDateTime?: string;
}

/** notStarted / running: ask again after `retryAfterMs` (the server's Retry-After, when sent). */
export interface PendingOperation extends OperationBase {
  status: 'notStarted' | 'running';
  retryAfterMs?: number;
}

/** `succeeded` and `completed` are the same state (sources disagree on the word). */
export interface SucceededOperation extends OperationBase {
  status: 'succeeded';
  /** The word the service used. */
  reportedStatus: 'succeeded' | 'completed';
  manifest: ManifestLocation;
}

export type ManifestLocation =
  | { kind: 'inline'; manifest: ExportManifest }
  /** Absolute URL of `…/reports/partners/billing/manifests/{id}`. */
  | { kind: 'link'; url: string };

/**
 * `failed`, with Graph's code. Code "5000" ("No data available") is a normal outcome, flagged by
 * `noData`: the period has no usage, not an error.
 */
export interface FailedOperation extends OperationBase {
  status: 'failed';
  error: { code: string; message?: string };
  noData: boolean;
}

export type ExportOperation = PendingOperation | SucceededOperation | FailedOperation;

/** Graph's "No data available" failure code. */
export const NO_DATA_AVAILABLE = '5000';

export interface ExportManifest {
  id: string;
  schemaVersion?: string;
  /** "compressedJSON" (or "compressedJSONLines"). */
  dataFormat?: string;
  createdDateTime?: string;
  /** Changes with each new data version of the same export. */
  eTag?: string;
  partnerTenantId?: string;
  /** Without the SAS. */
  rootDirectory: string;
  partitionType?: string;
  blobCount: number;
  /** In manifest order; `index` is the position (0-based), stable for a manifest. */
  blobs: ExportBlob[];
  /** When the SAS expires (its `se`), if the token says; the client never exposes the SAS itself. */
  sasExpiresAt?: string;
}

/** What openBlob needs; a queue message can carry it (the URL holds the SAS: never log it). */
export interface ExportBlobRef {
  /** rootDirectory + "/" + name + "?" + sasToken. A secret: keep it out of logs and errors. */
  url: string;
  /** For errors and logs. */
  name: string;
}

export interface ExportBlob extends ExportBlobRef {
  index: number;
  partitionValue?: string;
  /** Lines in the blob when the manifest says so (the sandbox does; Graph does not). */
  lineCount?: number;
}

export interface ExportBlobStream {
  /** gzip-compressed JSON Lines; emits GraphNetworkError on a reset mid-body. */
  body: Readable;
  contentLength?: number;
  etag?: string;
}

/**
 * One line of a blob, parsed by parseUsageLineItem or a usageLineReader (./lineItem.ts, where the
 * rules are): keys in any casing, unknown fields ignored, missing optional fields undefined,
 * amounts and quantities as exact decimal strings whether sent as JSON numbers or strings.
 * Required: customerId, usageDate, billingPreTaxTotal, billingCurrency; a line without them, or
 * with a billing or pricing total or currency that is not one, is rejected with LineItemError.
 */
export interface UsageLineItem {
  partnerId?: string;
  customerId: string;
  customerName?: string;
  customerDomainName?: string;
  invoiceNumber?: string;
  productId?: string;
  productName?: string;
  skuId?: string;
  skuName?: string;
  availabilityId?: string;
  publisherName?: string;
  /** The Partner Center subscription (the Azure plan's id), lower-cased. */
  subscriptionId?: string;
  subscriptionDescription?: string;
  /** The Azure subscription under the plan, lower-cased. */
  entitlementId?: string;
  entitlementDescription?: string;
  chargeStartDate?: string;
  chargeEndDate?: string;
  /** As sent, an ISO date or date-time. */
  usageDate: string;
  /** UTC day of usageDate, YYYY-MM-DD. */
  usageDay: string;
  chargeType?: string;
  meterType?: string;
  meterCategory?: string;
  meterSubCategory?: string;
  meterId?: string;
  meterName?: string;
  meterRegion?: string;
  unit?: string;
  unitType?: string;
  resourceUri?: string;
  resourceGroup?: string;
  resourceLocation?: string;
  consumedService?: string;
  unitPrice?: Decimal;
  effectiveUnitPrice?: Decimal;
  quantity?: Decimal;
  billingPreTaxTotal: Decimal;
  billingCurrency: string;
  pricingPreTaxTotal?: Decimal;
  pricingCurrency?: string;
  pcToBcExchangeRate?: Decimal;
  creditPercentage?: Decimal;
  partnerEarnedCreditPercentage?: Decimal;
  creditType?: string;
  benefitType?: string;
  /**
   * Tag key → value; from a JSON-encoded string or an object. Absent or unreadable: {}. Frozen,
   * and one object for every line with the same tags text.
   */
  tags: Readonly<Record<string, string>>;
  /** True when Tags was present but not readable (the line still counts). */
  tagsUnreadable?: boolean;
}
