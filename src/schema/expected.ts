import type { FieldSpec, Scalar } from 'kpiggybank-client/wire';

/** A value as the schema's words name it: `"primary"` for a string, the number or boolean as is. */
function scalarText(value: Scalar): string {
  return typeof value === 'string' ? value : String(value);
}

/** What a field wants, short, for a violation's `expected`: `string ≤ 16`, `one of primary, secondary`, `array of integer`. */
export function expectedOf(spec: FieldSpec): string {
  switch (spec.type) {
    case 'string':
      return spec.max_length === undefined ? 'string' : `string ≤ ${spec.max_length}`;
    case 'enum':
      return `one of ${(spec.values ?? []).map(scalarText).join(', ')}`;
    case 'timestamp':
      return 'timestamp (integer ≥ 0, or ISO 8601 date-time with offset)';
    case 'array':
      return spec.items === undefined ? 'array' : `array of ${expectedOf(spec.items)}`;
    case 'json':
      return 'any JSON value';
    default:
      return spec.type;
  }
}

/** A value as a reason names it: `a number`, `a string of 70 characters`, `null`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `a string of ${value.length} character${value.length === 1 ? '' : 's'}`;
    case 'number':
      return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
    case 'boolean':
      return `${value}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

/** Characters of a posted text (a value, an undeclared field's name) an answer repeats: a 400 must not echo a megabyte back. */
const SHOWN = 40;

/** A posted text as an answer shows it, cut after SHOWN characters. */
export function shortText(text: string): string {
  return text.length <= SHOWN ? text : `${text.slice(0, SHOWN)}…`;
}

/** A posted value as a reason quotes it: a string (cut) in quotes, a number or boolean as is, anything else described. */
export function quoted(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(shortText(value));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describeValue(value);
}
