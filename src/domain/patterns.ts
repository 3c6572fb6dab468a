/**
 * The text patterns the app checks in more than one place (settings, Partner Center responses,
 * API input, the OpenAPI document): defined here once.
 */

/** A GUID with hyphens, any case; no braces. */
export const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** An ISO 4217 currency code, any case ("EUR", "eur"). */
export const CURRENCY_CODE = /^[A-Za-z]{3}$/;

/** A pricing locale: language, optional script, region ("fr-FR", "en-US", "zh-Hans-CN"). */
export const LOCALE = /^[A-Za-z]{2,3}(-[A-Za-z]{4})?-([A-Za-z]{2}|\d{3})$/;

/** An exact decimal as Partner Center writes amounts ("-12.50", "1E-7"). */
export const DECIMAL = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/** Text that starts like an ISO-8601 date (2025-05-01…). */
export const ISO_DATE_PREFIX = /^\d{4}-\d{2}-\d{2}/;

/** An ISO-8601 date alone: 2025-05-01. */
export const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** An ISO-8601 date-time with a zone: 2025-05-01T06:00:00Z, 2025-05-01T08:00+02:00. */
export const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-](\d{2}):(\d{2}))$/i;
