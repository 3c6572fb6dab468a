// The line items of a Graph daily rated usage export, generated lazily from the same seeded
// customers the Partner Center side serves. Every amount is a split of a Partner Center figure,
// so they agree to the last digit: per customer, the billing totals of the current period add up
// to its monthly usage record; per Azure plan resource, to its resource usage record.
//
// Layout: the export is a sequence of cells (customer → subscription → resource → day), each
// cell written as one or more lines, and the line sequence is cut into contiguous blobs. Any
// blob can be produced on its own from its first line number, without generating the others.

import { PLAN_RESOURCE_GROUPS, RESOURCE_ENVIRONMENTS } from './catalog';
import type { BillingPeriod } from './clock';
import type { CustomerProfile, SandboxData, SubscriptionProfile } from './data';
import { formatDecimal, mulDiv, splitByWeight } from './money';
import { Rng } from './prng';
import { resourceUsage, subscriptionUsage, type UsageMoment } from './usage';
import { azurePlanUsage } from './azurePlan';

const DAY_MS = 86_400_000;

export type AttributeSet = 'full' | 'basic';

/** What an export covers and how it is cut into blobs. */
export interface ExportPlan {
  /** Figures are rated up to this moment (the export's start for `current`; a whole past month otherwise). */
  moment: UsageMoment;
  /** Unbilled exports carry an empty InvoiceNumber. */
  invoiceId?: string;
  attributeSet: AttributeSet;
  blobCount: number;
  /**
   * Lines per blob asked for. Each cell is then written as several lines (the cost split
   * exactly), so that the export holds blobCount × linesPerBlob lines; when the data has more
   * cells than that, each cell is one line and blobs hold more. Undefined: one line per cell.
   */
  linesPerBlob?: number;
  /** Some lines with string amounts, camelCase keys, unknown or missing fields. */
  variety: boolean;
}

interface MeterFields {
  category: string;
  subcategory: string;
  name: string;
  id: string;
  unit: string;
}

/** A meter with the JSON text of its fields, written on every line of it. */
interface LineMeter extends MeterFields {
  unitJson: string;
  /** `,"MeterType":…,"UnitType":…` for the full attribute set. */
  fullText: string;
}

function lineMeter(m: MeterFields): LineMeter {
  const unitJson = q(m.unit);
  return {
    ...m,
    unitJson,
    fullText:
      `,"MeterType":${unitJson},"MeterCategory":${q(m.category)},"MeterSubCategory":${q(m.subcategory)},` +
      `"MeterName":${q(m.name)},"MeterId":${q(m.id)},"UnitType":${unitJson}`,
  };
}

/** A resource with usage in the export: the unit whose cost is spread over the days. */
interface Row {
  customer: CustomerProfile;
  subscription: SubscriptionProfile;
  index: number;
  /** In the customer's currency and in USD, 10^-18 units, for the whole moment. */
  cost: bigint;
  usd: bigint;
  /** PascalCase key → JSON text, for the fields that do not change per line. */
  fixed: [string, string][];
  /** The same joined, for the common line. */
  fixedText: string;
  meters: LineMeter[];
  /** USD per unit, 10^-18 units, and as text. */
  unitPrice: bigint;
  priceText: string;
}

const FULL_ONLY = new Set([
  'CustomerDomainName',
  'CustomerCountry',
  'MpnId',
  'Tier2MpnId',
  'AvailabilityId',
  'ProductName',
  'PublisherId',
  'SubscriptionDescription',
  'MeterType',
  'MeterCategory',
  'MeterId',
  'MeterSubCategory',
  'MeterName',
  'MeterRegion',
  'ResourceLocation',
  'ConsumedService',
  'ResourceGroup',
  'UnitType',
  'ServiceInfo1',
  'ServiceInfo2',
  'Tags',
  'AdditionalInfo',
  'EntitlementDescription',
  'PartnerEarnedCreditPercentage',
  'BenefitID',
  'PCToBCExchangeRateDate',
]);

const LOCATIONS = ['westeurope', 'eastus', 'northeurope', 'japaneast', 'uksouth', 'swedencentral'];
const TAG_KEYS = ['env', 'costCenter', 'owner', 'Cost Center/Ärea'];

const q = (text: string) => JSON.stringify(text);

/** The lines of one export; cheap to build (counts only), lines generated on demand. */
export class ExportLines {
  /** Day weights (milliseconds rated in each day of the period up to the moment). */
  private readonly dayWeights: number[];
  private readonly dayStarts: number[];
  /** JSON text of each day's UsageDate. */
  private readonly dayTexts: string[];
  /** cellsBefore[i]: cells of customers 0..i-1; length customers + 1. */
  private readonly cellsBefore: Float64Array;
  readonly totalCells: number;
  readonly totalLines: number;
  private readonly perCell: number;
  private readonly extra: number;
  private readonly linesPerBlobActual: number;

  constructor(
    private readonly data: SandboxData,
    private readonly partner: { tenantId: string; name: string },
    private readonly plan: ExportPlan,
  ) {
    const { period, asOf } = plan.moment;
    this.dayWeights = [];
    this.dayStarts = [];
    for (let start = period.start; start < asOf; start += DAY_MS) {
      this.dayStarts.push(start);
      this.dayWeights.push(Math.min(asOf, start + DAY_MS) - start);
    }
    this.dayTexts = this.dayStarts.map((start) => q(isoDay(start)));
    this.cellsBefore = new Float64Array(data.customerCount + 1);
    let cells = 0;
    for (let i = 0; i < data.customerCount; i++) {
      this.cellsBefore[i] = cells;
      cells += this.resourceCount(data.customer(i)) * this.dayWeights.length;
    }
    this.cellsBefore[data.customerCount] = cells;
    this.totalCells = cells;
    const asked = plan.linesPerBlob === undefined ? 0 : plan.linesPerBlob * plan.blobCount;
    // No usage rated yet (the first hour of a month): no lines, however many were asked for.
    this.totalLines = cells === 0 ? 0 : Math.max(cells, asked);
    this.perCell = cells === 0 ? 0 : Math.floor(this.totalLines / cells);
    this.extra = cells === 0 ? 0 : this.totalLines - this.perCell * cells;
    this.linesPerBlobActual = Math.ceil(this.totalLines / plan.blobCount);
  }

  /** Line numbers [from, to) of blob `index`. */
  blobRange(index: number): [number, number] {
    const from = Math.min(this.totalLines, index * this.linesPerBlobActual);
    return [from, Math.min(this.totalLines, from + this.linesPerBlobActual)];
  }

  /** The lines [from, to) as JSON text, without newlines, generated one at a time. */
  *lines(from: number, to: number): Generator<string> {
    let line = from;
    let cell = this.cellOfLine(from);
    let customerIndex = -1;
    let rows: Row[] = [];
    let rowIndex = -1;
    let dayCosts: bigint[] = [];
    let dayUsd: bigint[] = [];
    const days = this.dayWeights.length;
    while (line < to && cell < this.totalCells) {
      const start = this.firstLineOfCell(cell);
      const count = this.linesOfCell(cell);
      if (customerIndex < 0 || this.cellsBefore[customerIndex + 1] <= cell) {
        customerIndex = this.customerOfCell(cell);
        rows = this.rows(this.data.customer(customerIndex));
        rowIndex = -1;
      }
      const offset = cell - this.cellsBefore[customerIndex];
      const r = Math.floor(offset / days);
      const day = offset % days;
      if (r !== rowIndex) {
        rowIndex = r;
        dayCosts = splitByWeight(rows[r].cost, this.dayWeights);
        dayUsd = splitByWeight(rows[r].usd, this.dayWeights);
      }
      const ones = new Array<number>(count).fill(1);
      const costs = splitByWeight(dayCosts[day], ones);
      const usds = splitByWeight(dayUsd[day], ones);
      for (let l = Math.max(0, line - start); l < count && line < to; l++, line++) {
        yield this.format(rows[r], day, l, costs[l], usds[l], line);
      }
      cell++;
    }
  }

  private linesOfCell(cell: number): number {
    return this.perCell + (cell < this.extra ? 1 : 0);
  }

  private firstLineOfCell(cell: number): number {
    return cell * this.perCell + Math.min(cell, this.extra);
  }

  private cellOfLine(line: number): number {
    if (this.totalCells === 0) return 0;
    const big = this.extra * (this.perCell + 1);
    return line < big
      ? Math.floor(line / (this.perCell + 1))
      : this.extra + Math.floor((line - big) / this.perCell);
  }

  private customerOfCell(cell: number): number {
    let lo = 0;
    let hi = this.data.customerCount - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.cellsBefore[mid] <= cell) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private resourceCount(customer: CustomerProfile): number {
    let count = 0;
    for (const s of customer.subscriptions) {
      if (s.fullMonthUsd === 0n) continue;
      count +=
        customer.kind === 'azurePlan' ? this.data.azurePlan(customer, s).resources.length : s.resourceCount;
    }
    return count;
  }

  /** The customer's resources with usage, in the order resourceCount counted them. */
  private rows(customer: CustomerProfile): Row[] {
    const { moment } = this.plan;
    const rows: Row[] = [];
    for (const subscription of customer.subscriptions) {
      if (subscription.fullMonthUsd === 0n) continue;
      const usage = subscriptionUsage(customer, subscription, moment);
      if (customer.kind === 'azurePlan') {
        const plan = azurePlanUsage(usage, this.data.azurePlan(customer, subscription), moment);
        const meters = plan.profile.meters.map((m) => ({
          category: m.category,
          subcategory: m.subcategory,
          name: m.meterName,
          id: m.meterId,
          unit: m.unit,
        }));
        for (const r of plan.resources) {
          rows.push(
            this.row(customer, subscription, rows.length, r.totalCost, r.usdTotalCost, meters, {
              ResourceURI: r.resource.resourceUri,
              ResourceGroup: r.resource.resourceGroup,
              ConsumedService: r.resource.resourceType,
              EntitlementId: r.entitlement.id,
              EntitlementDescription: r.entitlement.friendlyName,
              ProductId: 'DZH318Z0BPS6',
              SkuId: '0001',
              AvailabilityId: 'DZH318Z0BML6',
              SkuName: 'Azure plan',
              ProductName: 'Azure plan',
            }),
          );
        }
      } else {
        const resources = this.data.resources(customer, subscription);
        const shares = resourceUsage(usage, resources, moment);
        const usd = splitByWeight(
          usage.usdTotalCost,
          resources.map((r) => r.weight),
        );
        const group = PLAN_RESOURCE_GROUPS[subscription.index % PLAN_RESOURCE_GROUPS.length];
        shares.forEach((share, i) => {
          const resource = share.resource;
          rows.push(
            this.row(
              customer,
              subscription,
              rows.length,
              share.totalCost,
              usd[i],
              [
                {
                  category: resource.category,
                  subcategory: resource.subcategory,
                  name: resource.subcategory,
                  id: resource.id,
                  unit: resource.unit,
                },
              ],
              {
                ResourceURI: `/subscriptions/${subscription.id}/resourceGroups/${group}/providers/Microsoft.Classic/resources/${resource.name}`,
                ResourceGroup: group,
                ConsumedService: 'Microsoft.Classic',
                EntitlementId: subscription.id,
                EntitlementDescription: subscription.name,
                ProductId: 'MS-AZR-0145P',
                SkuId: '0001',
                AvailabilityId: 'MS-AZR-0145P',
                SkuName: subscription.name,
                ProductName: 'Microsoft Azure',
              },
            ),
          );
        });
      }
    }
    return rows;
  }

  private row(
    customer: CustomerProfile,
    subscription: SubscriptionProfile,
    index: number,
    cost: bigint,
    usd: bigint,
    meters: MeterFields[],
    fields: Record<string, string>,
  ): Row {
    const rng = Rng.of(this.data.seed, 'graphRow', customer.index, subscription.index, index);
    const tags: Record<string, string> = {};
    if (!rng.chance(0.2)) {
      tags.env = rng.pick(RESOURCE_ENVIRONMENTS);
      tags.costCenter = `CC-${rng.int(100, 120)}`;
      if (rng.chance(0.1)) tags[TAG_KEYS[3]] = 'Nord "Ö"';
    }
    const { period } = this.plan.moment;
    const slug = customer.name.toLowerCase().replace(/[^a-z0-9]+/g, '');
    const fixed: Record<string, string> = {
      PartnerId: this.partner.tenantId,
      PartnerName: this.partner.name,
      CustomerId: customer.id,
      CustomerName: customer.name,
      CustomerDomainName: `${slug || 'customer'}${customer.index}.onmicrosoft.com`,
      CustomerCountry: 'US',
      MpnId: '1234567',
      Tier2MpnId: '',
      InvoiceNumber: this.plan.invoiceId ?? '',
      PublisherName: 'Microsoft',
      PublisherId: '',
      SubscriptionId: subscription.id,
      SubscriptionDescription: subscription.name,
      ChargeStartDate: isoDay(period.start),
      ChargeEndDate: isoDay(period.end - DAY_MS),
      MeterRegion: '',
      ResourceLocation: rng.pick(LOCATIONS),
      ChargeType: 'new',
      BillingCurrency: customer.currencyCode,
      PricingCurrency: 'USD',
      ServiceInfo1: '',
      ServiceInfo2: '',
      Tags: Object.keys(tags).length === 0 ? '' : JSON.stringify(tags),
      AdditionalInfo: '{"ImageType":null}',
      PCToBCExchangeRateDate: isoDay(period.start),
      CreditType: 'Credit Not Applied',
      BenefitOrderID: '',
      BenefitID: '',
      BenefitType: '',
      ...fields,
    };
    const rate = formatDecimal(customer.rate, 10);
    const unitPrice = BigInt(rng.int(1, 9_999_999)) * 10n ** 11n;
    const entries: [string, string][] = Object.entries(fixed).map(([k, v]) => [k, q(v)]);
    entries.push(
      ['PCToBCExchangeRate', rate],
      ['CreditPercentage', '0'],
      ['PartnerEarnedCreditPercentage', '0'],
    );
    const kept = entries.filter(([k]) => this.plan.attributeSet === 'full' || !FULL_ONLY.has(k));
    return {
      customer,
      subscription,
      index,
      cost,
      usd,
      fixed: kept,
      fixedText: kept.map(([k, v]) => `${q(k)}:${v}`).join(','),
      meters: meters.map(lineMeter),
      unitPrice,
      priceText: formatDecimal(unitPrice),
    };
  }

  private format(row: Row, day: number, l: number, cost: bigint, usd: bigint, lineNumber: number): string {
    const meter = row.meters[(row.index + l) % row.meters.length];
    const quantity = formatDecimal(mulDiv(usd, QUANTITY_UNITS, row.unitPrice), 15);
    const billing = formatDecimal(cost);
    const pricing = formatDecimal(usd);
    const roll = this.plan.variety ? variety(this.data.seed, lineNumber) : 1;
    const full = this.plan.attributeSet === 'full';
    if (roll >= 0.12) {
      // The common line, written straight from precomputed pieces (this is the bench's hot path).
      return (
        `{${row.fixedText},"UsageDate":${this.dayTexts[day]},"Unit":${meter.unitJson},` +
        `"UnitPrice":${row.priceText},"EffectiveUnitPrice":${row.priceText},"Quantity":${quantity},` +
        `"BillingPreTaxTotal":${billing},"PricingPreTaxTotal":${pricing}${full ? meter.fullText : ''}}`
      );
    }
    const variable: [string, string][] = [
      ['UsageDate', this.dayTexts[day]],
      ['Unit', meter.unitJson],
      ['UnitPrice', row.priceText],
      ['EffectiveUnitPrice', row.priceText],
      ['Quantity', quantity],
      ['BillingPreTaxTotal', billing],
      ['PricingPreTaxTotal', pricing],
    ];
    if (full) {
      variable.push(
        ['MeterType', meter.unitJson],
        ['MeterCategory', q(meter.category)],
        ['MeterSubCategory', q(meter.subcategory)],
        ['MeterName', q(meter.name)],
        ['MeterId', q(meter.id)],
        ['UnitType', meter.unitJson],
      );
    }
    // The variety the parser must take: amounts as strings, camelCase keys, a missing optional
    // field, an unknown one, a date without its offset.
    let entries = [...row.fixed, ...variable];
    if (roll < 0.04) {
      entries = entries.map(([k, v]) => [k, AMOUNT_KEYS.has(k) ? q(v) : v]);
    } else if (roll < 0.08) {
      entries = entries.map(([k, v]) => [k[0].toLowerCase() + k.slice(1), v]);
    } else {
      entries = entries.filter(
        ([k]) => k !== 'ServiceInfo2' && k !== 'MeterRegion' && k !== 'Tier2MpnId' && k !== 'UsageDate',
      );
      entries.push(
        ['FutureField', '{"nested":[1,2.5,"x"]}'],
        ['UsageDate', q(isoDay(this.dayStarts[day]).slice(0, 19))],
      );
    }
    return `{${entries.map(([k, v]) => `${q(k)}:${v}`).join(',')}}`;
  }
}

const QUANTITY_UNITS = 10n ** 15n;
const AMOUNT_KEYS = new Set([
  'UnitPrice',
  'EffectiveUnitPrice',
  'Quantity',
  'BillingPreTaxTotal',
  'PricingPreTaxTotal',
]);

/** A uniform draw per line number, cheaper than a seeded stream per line. */
function variety(seed: number, line: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(line, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** "2026-12-01T00:00:00Z" for the UTC day holding `ms`. */
function isoDay(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 10)}T00:00:00Z`;
}

/** The whole previous calendar month as a moment: everything rated, as a billed month is. */
export function wholePeriod(period: BillingPeriod): UsageMoment {
  const length = BigInt(period.end - period.start);
  return { asOf: period.end, period, elapsed: length, length };
}
