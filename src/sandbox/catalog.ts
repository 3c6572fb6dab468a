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
