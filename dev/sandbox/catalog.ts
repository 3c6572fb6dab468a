// The invented vocabulary the generator draws from. Exchange rates are arbitrary but fixed, with
// ten decimals so converted amounts carry long digit tails like the real ones.

/** Local currency units per US dollar, times 10^10. */
export const RATE_SCALE = 10n ** 10n;
export const RATES: Readonly<Record<string, bigint>> = {
  USD: 10_000_000_000n,
  EUR: 9_213_456_789n,
  GBP: 7_890_123_457n,
  JPY: 1_495_678_901_234n,
  SEK: 108_765_432_109n,
};

/** Locales a legacy (MS-AZR-0145P) customer is billed in, with the currency each implies. */
export const LOCALES = [
  { locale: 'en-US', currency: 'USD', suffix: 'Inc.' },
  { locale: 'fr-FR', currency: 'EUR', suffix: 'SARL' },
  { locale: 'de-DE', currency: 'EUR', suffix: 'GmbH' },
  { locale: 'en-GB', currency: 'GBP', suffix: 'Ltd' },
  { locale: 'ja-JP', currency: 'JPY', suffix: '株式会社' },
  { locale: 'sv-SE', currency: 'SEK', suffix: 'AB' },
] as const;

// Names include non-ASCII letters, an apostrophe and an ampersand on purpose: clients must carry
// them through JSON, storage and CSV untouched.
export const NAME_STEMS = [
  'Contoso',
  'Fabrikam',
  'Northwind',
  'Adventure Works',
  'Tailspin',
  'Wide World',
  'Litware',
  'Proseware',
  'Woodgrove',
  'Alpine Ski House',
  'Coho Winery',
  'Lucerne',
  'Müller & Söhne',
  "O'Brien & Co",
  'Åkerlund',
  'Café Ñandú',
] as const;

export const NAME_SECTORS = [
  'Retail',
  'Logistics',
  'Health',
  'Labs',
  'Consulting',
  'Media',
  'Energy',
  'Foods',
];

export const LEGACY_OFFER_ID = 'MS-AZR-0145P';
export const AZURE_PLAN_OFFER_ID = 'DZH318Z0BPS6:0001:DZH318Z0BML6';

export const LEGACY_SUBSCRIPTION_NAMES = [
  'Microsoft Azure',
  'Microsoft Azure',
  'Microsoft Azure',
  'Production',
  'Dev/Test',
  'Data Platform',
];

export const RESOURCE_KINDS = [
  { category: 'Virtual Machines', subcategory: 'D2s v3', unit: '1 Hour', prefix: 'vm' },
  { category: 'Storage', subcategory: 'LOCALLY REDUNDANT', unit: 'GB', prefix: 'st' },
  { category: 'Bandwidth', subcategory: 'Data Transfer Out', unit: 'GB', prefix: 'egress' },
  { category: 'SQL Database', subcategory: 'Standard S0', unit: '1 Day', prefix: 'sqldb' },
  { category: 'App Service', subcategory: 'Basic B1', unit: '1 Hour', prefix: 'app' },
  { category: 'Remote App', subcategory: 'Remote App', unit: 'GB', prefix: 'remoteapp' },
  { category: 'Log Analytics', subcategory: 'Data Ingestion', unit: 'GB', prefix: 'log' },
] as const;

export const RESOURCE_ENVIRONMENTS = ['prod', 'dev', 'test', 'shared'];

// Azure-plan detail. Meter ids follow the documented "DZH318Z0BNVX-005J-Data Transfer In (GB)"
// form; some names carry `/`, `\`, `#`, `?` or a control character on purpose, because those are
// the characters Azure Table keys forbid and a cache must key such records some other way.
export const PLAN_METERS = [
  { meterName: 'Data Transfer In', category: 'Bandwidth', subcategory: 'Bandwidth', unit: '1 GB' },
  {
    meterName: 'D2s v3/D2s v3',
    category: 'Virtual Machines',
    subcategory: 'Dv3/DSv3 Series',
    unit: '1 Hour',
  },
  {
    meterName: 'LRS Data Stored',
    category: 'Storage',
    subcategory: 'Standard Page Blob',
    unit: '1 GB/Month',
  },
  {
    meterName: 'P10 LRS Disk',
    category: 'Storage',
    subcategory: 'Premium SSD Managed Disks',
    unit: '1/Month',
  },
  { meterName: 'S0 DTUs', category: 'SQL Database', subcategory: 'Standard', unit: '1/Day' },
  { meterName: 'Data Ingestion', category: 'Log Analytics', subcategory: 'Pay-as-you-go', unit: '1 GB' },
  { meterName: 'Backup #2 \\ Archive?', category: 'Backup', subcategory: 'Archive', unit: '10K' },
  {
    meterName: 'Query\tRead Units\u0007',
    category: 'Azure Cosmos DB',
    subcategory: 'Serverless',
    unit: '1M',
  },
] as const;

export const PLAN_RESOURCE_TYPES = [
  { provider: 'Microsoft.Compute', kind: 'virtualMachines', prefix: 'vm' },
  { provider: 'Microsoft.Storage', kind: 'storageAccounts', prefix: 'st' },
  { provider: 'Microsoft.Sql', kind: 'servers', prefix: 'sql' },
  { provider: 'Microsoft.Web', kind: 'sites', prefix: 'app' },
  { provider: 'Microsoft.Network', kind: 'publicIPAddresses', prefix: 'pip' },
  { provider: 'Microsoft.OperationalInsights', kind: 'workspaces', prefix: 'log' },
] as const;

/** Resource name tails a cache must carry as data, never as a Table key. */
export const HOSTILE_NAME_TAILS = ['#blue', '?v=2', '\\legacy', '\u0001ctl', ' (copy)', '-Ünïcode'];

export const PLAN_RESOURCE_GROUPS = [
  'TESTRG1',
  'rg-prod',
  'rg-dev',
  'rg-data-Åre',
  'NetworkWatcherRG',
  'rg.shared(1)',
];

export const ENTITLEMENT_NAMES = ['Microsoft Azure', 'Partner Subscription', 'Production', 'Dev/Test'];
