/**
 * The declared event schema as the page shows it: each type's selector and one row per field,
 * nested fields by their dotted path. The page reads `GET /wsapi/schema` by hand with type guards
 * (no zod in the page, as messages.ts explains); `test/home-page.test.ts` checks `readEventSchema`
 * against the wire's EventSchemaSchema.
 */
import type { EventSchema, EventType, FieldSpec } from 'kpiggybank-client/wire';
import { isRecord } from './messages.js';

export interface FieldRow {
  /** `user_agent.version`; an array's items are `event_stream[]`. */
  path: string;
  type: string;
  required: boolean;
  /** The most characters, and what becomes of a longer value; '' when the field has no limit. */
  maxLength: string;
}

const isScalar = (value: unknown): boolean => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

function isFieldSpec(value: unknown): value is FieldSpec {
  if (!isRecord(value) || typeof value.type !== 'string' || typeof value.required !== 'boolean') return false;
  if (value.max_length !== undefined && typeof value.max_length !== 'number') return false;
  if (value.values !== undefined && !(Array.isArray(value.values) && value.values.every(isScalar))) return false;
  if (value.items !== undefined && !isFieldSpec(value.items)) return false;
  return value.fields === undefined || isFields(value.fields);
}

function isFields(value: unknown): value is Record<string, FieldSpec> {
  return isRecord(value) && Object.values(value).every(isFieldSpec);
}

function isEventType(value: unknown): value is EventType {
  if (!isRecord(value) || typeof value.name !== 'string' || !isFields(value.fields)) return false;
  return value.when === undefined || (isRecord(value.when) && typeof value.when.field === 'string' && isScalar(value.when.value));
}

/** The schema the service answered, or undefined for anything that is not one. */
export function readEventSchema(value: unknown): EventSchema | undefined {
  if (!isRecord(value) || !Array.isArray(value.types) || !value.types.every(isEventType)) return undefined;
  return { types: value.types, untyped: value.untyped === 'accept' ? 'accept' : 'reject' };
}

/** `every blob`, or the discriminator as the file writes it: `event = "signin"`. */
export function selectorOf(type: EventType): string {
  return type.when === undefined ? 'every blob' : `${type.when.field} = ${JSON.stringify(type.when.value)}`;
}

/** `enum: primary, secondary`, `array of integer`, `object, no other fields`. */
function typeOf(field: FieldSpec): string {
  switch (field.type) {
    case 'enum':
      return `enum: ${(field.values ?? []).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`;
    case 'array':
      return field.items === undefined ? 'array' : `array of ${typeOf(field.items)}`;
    case 'object':
      return field.fields !== undefined && !field.additional_fields ? 'object, no other fields' : 'object';
    default:
      return field.type;
  }
}

/** Every field of `fields`, depth first, an object's own fields after it. */
export function fieldRows(fields: Readonly<Record<string, FieldSpec>>, prefix = ''): FieldRow[] {
  return Object.entries(fields).flatMap(([name, field]) => {
    const path = `${prefix}${name}`;
    const maxLength = field.max_length === undefined ? '' : field.on_too_long === 'truncate' ? `${field.max_length}, longer cut` : String(field.max_length);
    const row: FieldRow = { path, type: typeOf(field), required: field.required, maxLength };
    const inner = field.items?.fields !== undefined ? fieldRows(field.items.fields, `${path}[].`) : field.fields !== undefined ? fieldRows(field.fields, `${path}.`) : [];
    return [row, ...inner];
  });
}
