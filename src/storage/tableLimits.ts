import { AppError } from '../domain/errors';

/**
 * Table Storage's real limits. Azurite enforces only some of them, so the adapter checks every
 * entity before it leaves and splits (see ./chunks.ts) or refuses what would break them.
 * Sizes follow the service's documented formula: 4 bytes + 2 × (PartitionKey + RowKey chars)
 * + for each property 8 bytes + 2 × name chars + the value's size (strings 2 × chars + 4).
 */
export const MAX_ENTITY_BYTES = 1024 * 1024;
/** 255 including PartitionKey, RowKey and Timestamp. */
export const MAX_CUSTOM_PROPERTIES = 252;
/** 64 KiB of UTF-16: 32,768 chars. */
export const MAX_STRING_CHARS = 32 * 1024;
/** 1 KiB of UTF-16. */
export const MAX_KEY_CHARS = 512;
export const MAX_PROPERTY_NAME_CHARS = 255;
export const MAX_BATCH_OPERATIONS = 100;
/** A transaction's request body must stay under 4 MiB; this keeps a margin for the multipart framing. */
export const MAX_BATCH_PAYLOAD_BYTES = 4 * 1024 * 1024 - 256 * 1024;

export class EntityTooLargeError extends AppError {
  readonly code = 'EntityTooLarge';
}

export class InvalidKeyError extends AppError {
  readonly code = 'InvalidKey';
}

// eslint-disable-next-line no-control-regex
const FORBIDDEN_KEY_CHARS = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

/** Throws InvalidKeyError for an empty, over-long key or one with / \ # ? or a control character. */
export function assertValidKey(kind: 'PartitionKey' | 'RowKey', key: string): void {
  if (key.length === 0) throw new InvalidKeyError(`${kind} is empty`);
  if (key.length > MAX_KEY_CHARS)
    throw new InvalidKeyError(`${kind} has ${key.length} characters; the limit is ${MAX_KEY_CHARS}`);
  const bad = FORBIDDEN_KEY_CHARS.exec(key);
  if (bad)
    throw new InvalidKeyError(
      `${kind} contains the forbidden character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`,
    );
}

type PropertyValue = unknown;

/** Bytes a value takes by the service's formula; undefined/null properties are not sent. */
export function valueBytes(value: PropertyValue): number {
  if (typeof value === 'string') return value.length * 2 + 4;
  if (typeof value === 'boolean') return 1;
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 2 ** 31 ? 4 : 8;
  if (typeof value === 'bigint') return 8;
  if (value instanceof Date) return 8;
  if (value instanceof Uint8Array) return value.byteLength + 4;
  if (value && typeof value === 'object' && 'type' in value && 'value' in value) {
    const typed = value as { type: string; value: string };
    if (typed.type === 'Int64' || typed.type === 'DateTime' || typed.type === 'Double') return 8;
    if (typed.type === 'Guid') return 16;
    if (typed.type === 'Int32') return 4;
    if (typed.type === 'Boolean') return 1;
    return valueBytes(typed.value);
  }
  return valueBytes(String(value));
}

export interface EntityLike {
  partitionKey: string;
  rowKey: string;
  [property: string]: unknown;
}

function customProperties(entity: EntityLike): Array<[string, unknown]> {
  return Object.entries(entity).filter(
    ([name, value]) =>
      name !== 'partitionKey' &&
      name !== 'rowKey' &&
      name !== 'etag' &&
      name !== 'timestamp' &&
      value !== undefined &&
      value !== null,
  );
}

export function entityBytes(entity: EntityLike): number {
  let size = 4 + (entity.partitionKey.length + entity.rowKey.length) * 2;
  for (const [name, value] of customProperties(entity)) size += 8 + name.length * 2 + valueBytes(value);
  return size;
}

/**
 * Checks one entity against every limit and throws the typed error naming the first broken one.
 * Called on every write, so nothing reaches the service that it would reject, or that Azurite
 * would accept and Azure would not.
 */
export function assertEntityWithinLimits(entity: EntityLike): void {
  assertValidKey('PartitionKey', entity.partitionKey);
  assertValidKey('RowKey', entity.rowKey);
  const where = `${entity.partitionKey}/${entity.rowKey}`;
  const properties = customProperties(entity);
  if (properties.length > MAX_CUSTOM_PROPERTIES)
    throw new EntityTooLargeError(
      `${where} has ${properties.length} properties; the limit is ${MAX_CUSTOM_PROPERTIES}`,
    );
  for (const [name, value] of properties) {
    if (name.length > MAX_PROPERTY_NAME_CHARS)
      throw new EntityTooLargeError(`${where} has a property name over ${MAX_PROPERTY_NAME_CHARS} chars`);
    if (typeof value === 'string' && value.length > MAX_STRING_CHARS)
      throw new EntityTooLargeError(
        `${where} property ${name} has ${value.length} chars; the limit is ${MAX_STRING_CHARS}`,
      );
  }
  const size = entityBytes(entity);
  if (size > MAX_ENTITY_BYTES)
    throw new EntityTooLargeError(`${where} is ${size} bytes; the limit is ${MAX_ENTITY_BYTES}`);
}

/** Bytes an entity adds to a transaction's body (JSON, UTF-8), for splitting transactions. */
export function payloadBytes(entity: object): number {
  return Buffer.byteLength(JSON.stringify(entity), 'utf8') + 512;
}
