// The declared event schema, compiled once at start into the checker ingest runs on every blob.
// ajv turns each type's JSON Schema (json-schema.ts) into a JavaScript function; a blob that
// passes costs that function and no walk of the schema. Chosen by measurement against zod 4 (an
// equivalent z.strictObject built from the same EventSchema), on the example schema
// (examples/browserid-signin.schema.toml) and bench/lib/blobs.ts's kpiBlob, one blob at a time,
// median of 5 × 200,000, Node 20 on the shared 2-core machine (load 1.3–2.4), three runs: a
// valid blob 0.45–0.56 µs with ajv, 3.6–6.3 µs with zod 4; one with a wrong type at depth 2,
// 1.5–1.9 µs against 6.7–8.7 µs.
import { _, Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { type EventSchema, type EventType, eventTypeOf, type FieldSpec } from 'kpiggybank-client/wire';
import { isIsoDateTime } from '../formats/iso-time.js';
import { describeValue, quoted, shortText } from './expected.js';
import { ISO_DATE_TIME, MAX_UNITS, typeJsonSchema, type SchemaNode } from './json-schema.js';
import type { SchemaChecker, SchemaViolation } from './schema-violation.js';
import { truncator } from './truncate.js';

interface CompiledType {
  readonly type: EventType;
  readonly validate: ValidateFunction;
  readonly nodes: ReadonlyMap<string, SchemaNode>;
  readonly truncate: ((blob: Record<string, unknown>) => void) | undefined;
}

/** The checker of `schema`: a blob is of the first type whose `when` it matches; one of none is refused or accepted as `untyped` says. */
export function compileSchema(schema: EventSchema): SchemaChecker {
  const ajv = new Ajv({ allErrors: false, ownProperties: schema.types.some((type) => namesInherited(type.fields)), strict: true, strictTypes: false });
  ajv.addFormat(ISO_DATE_TIME, { type: 'string', validate: isIsoDateTime });
  ajv.addKeyword({
    keyword: MAX_UNITS,
    type: 'string',
    schemaType: 'number',
    code: (cxt) => cxt.fail(_`${cxt.data}.length > ${cxt.schema}`),
    error: { message: 'too long', params: ({ schema }) => _`{limit: ${schema}}` },
  });
  const compiledTypes = new Map<EventType, CompiledType>();
  for (const type of schema.types) {
    const { schema: json, nodes } = typeJsonSchema(type);
    compiledTypes.set(type, { type, validate: ajv.compile(json), nodes, truncate: truncator(type.fields) });
  }
  const untyped = untypedViolation(schema);
  const accept = schema.untyped === 'accept';

  return {
    check(blob) {
      const type = eventTypeOf(schema, blob);
      if (type === undefined) return accept ? undefined : untyped(blob);
      const compiled = compiledTypes.get(type) as CompiledType;
      if (!compiled.validate(blob)) return violation(compiled, compiled.validate.errors ?? [], blob);
      compiled.truncate?.(blob);
      return undefined;
    },
  };
}

/**
 * Whether a field is named like a property every object inherits (`constructor`, `toString`):
 * then ajv must look at own properties only, or it would see Object.prototype's where the blob
 * has none. Otherwise it need not: blobs come from JSON.parse, plain objects whose inherited
 * properties are all non-enumerable, and checking own properties made the check 3 times slower
 * (1.0 against 0.45–0.56 µs a sign-in blob of the example schema, the microbenchmark above).
 */
function namesInherited(fields: Readonly<Record<string, FieldSpec>>): boolean {
  const inherited = (spec: FieldSpec): boolean => (spec.fields !== undefined && namesInherited(spec.fields)) || (spec.items !== undefined && inherited(spec.items));
  return Object.entries(fields).some(([name, spec]) => name in Object.prototype || inherited(spec));
}

/** A blob of no declared type: at fault are the discriminator fields, and the declared types are what is wanted. */
function untypedViolation(schema: EventSchema): (blob: Record<string, unknown>) => SchemaViolation {
  const fields = [...new Set(schema.types.flatMap((type) => (type.when === undefined ? [] : [type.when.field])))];
  const expected = `one of ${schema.types.map((type) => (type.when === undefined ? type.name : `${type.name} (${type.when.field} = ${JSON.stringify(type.when.value)})`)).join(', ')}`;
  return (blob) => {
    const has = fields.map((field) => (blob[field] === undefined ? `no ${field}` : `${field} ${quoted(blob[field])}`)).join(', ');
    return { reason: `the blob is of no declared type (it has ${has}); the schema declares ${expected.slice('one of '.length)}`, path: fields.join(', '), expected };
  };
}

/** The JSON Pointer of ajv's instancePath as its segments. */
function segments(pointer: string): string[] {
  return pointer === ''
    ? []
    : pointer
        .slice(1)
        .split('/')
        .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function valueAt(blob: unknown, at: readonly string[]): unknown {
  let value = blob;
  for (const key of at) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/**
 * ajv's error (the last one: with allErrors off it stops at the first failing keyword, after an
 * anyOf's branches, which come first) as a violation. Only on the way to a 400, so it may walk.
 */
function violation({ type, nodes }: CompiledType, errors: readonly ErrorObject[], blob: Record<string, unknown>): SchemaViolation {
  const error = errors[errors.length - 1];
  const at = segments(error?.instancePath ?? '');
  if (error === undefined) return { reason: `the blob breaks ${type.name}`, path: '', expected: 'object', type: type.name };
  const keywordAt = error.schemaPath.lastIndexOf('/');
  const nodePath = error.schemaPath.slice(0, keywordAt);
  if (error.keyword === 'required') {
    const missing = String(error.params.missingProperty);
    const path = [...at, missing].join('.');
    return { reason: `${path} is missing; ${type.name} requires it`, path, expected: 'present (required)', type: type.name };
  }
  if (error.keyword === 'additionalProperties') {
    const extra = shortText(String(error.params.additionalProperty));
    const path = [...at, extra].join('.');
    const node = nodes.get(nodePath);
    const takes = `${node?.name ?? type.name} takes ${node?.fields?.join(', ') ?? 'no other field'}`;
    return { reason: `${path} is not a declared field (${takes})`, path, expected: `no such field (${takes})`, type: type.name };
  }
  const node = nodes.get(nodePath);
  const path = at.join('.');
  const value = valueAt(blob, at);
  const expected = node?.expected ?? error.message ?? error.keyword;
  const what = path === '' ? 'the blob' : path;
  if (error.keyword === MAX_UNITS) {
    return { reason: `${what} is ${(value as string).length} characters long; ${type.name} allows ${String(error.params.limit)}`, path, expected, type: type.name };
  }
  if (value === null) return { reason: `${what} is null; ${type.name} requires ${expected}`, path, expected, type: type.name };
  const shown = typeof value === 'string' && error.keyword === 'enum' ? quoted(value) : describeValue(value);
  return { reason: `${what} is ${shown}; ${type.name} wants ${expected}`, path, expected, type: type.name };
}
