import type { SchemaObject } from 'ajv';
import type { EventType, FieldSpec } from 'kpiggybank-client/wire';
import { expectedOf } from './expected.js';

/** The ajv format a `timestamp` field's text must have (registered by compile-schema.ts). */
export const ISO_DATE_TIME = 'iso-date-time';
/**
 * The keyword of max_length (registered by compile-schema.ts): a string's length in UTF-16 code
 * units, as max_length is defined and as truncate cuts; JSON Schema's maxLength counts code points.
 */
export const MAX_UNITS = 'maxUnits';

/** A field (or the type itself) as a violation names it, found by the schemaPath of ajv's error. */
export interface SchemaNode {
  /** The field's name, or the type's for its top level. */
  readonly name: string;
  /** What it wants: expectedOf its spec. */
  readonly expected: string;
  /** An object's declared fields, for `no such field (user_agent takes os, browser, version)`. */
  readonly fields?: readonly string[];
}

/** Fields every blob may carry whatever its type declares. */
const OWN_FIELDS = ['timestamp', '_id'];

export interface TypeJsonSchema {
  readonly schema: SchemaObject;
  /** Each field's node by its place in `schema` (`#/properties/user_agent/properties/version`; `#` is the type). */
  readonly nodes: ReadonlyMap<string, SchemaNode>;
}

/**
 * An event type as JSON Schema, for ajv to compile. An optional field may be null (the schema
 * says absent or null is refused only when required). A `truncate` field has no maxLength here:
 * truncate.ts cuts it after the blob passed.
 */
export function typeJsonSchema(type: EventType): TypeJsonSchema {
  const nodes = new Map<string, SchemaNode>();
  const object = (fields: Readonly<Record<string, FieldSpec>>, additional: boolean, at: string): SchemaObject => {
    const properties: Record<string, SchemaObject> = {};
    for (const [name, spec] of Object.entries(fields)) properties[name] = field(name, spec, `${at}/properties/${name}`);
    const required = Object.keys(fields).filter((name) => fields[name]!.required);
    return { properties, ...(required.length > 0 && { required }), ...(!additional && { additionalProperties: false }) };
  };
  const field = (name: string, spec: FieldSpec, at: string): SchemaObject => {
    nodes.set(at, { name, expected: expectedOf(spec), ...(spec.fields !== undefined && { fields: Object.keys(spec.fields) }) });
    const typed = (json: string): string | string[] => (spec.required ? json : [json, 'null']);
    switch (spec.type) {
      case 'string':
        return { type: typed('string'), ...(spec.max_length !== undefined && spec.on_too_long === 'reject' && { [MAX_UNITS]: spec.max_length }) };
      case 'integer':
      case 'number':
      case 'boolean':
        return { type: typed(spec.type) };
      case 'timestamp':
        return {
          anyOf: [{ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, { type: 'string', format: ISO_DATE_TIME }, ...(spec.required ? [] : [{ type: 'null' }])],
        };
      case 'enum':
        // ajv refuses an enum listing a value twice, which the file may do harmlessly.
        return { enum: [...new Set(spec.required ? spec.values : [...(spec.values ?? []), null])] };
      case 'array':
        return { type: typed('array'), ...(spec.items !== undefined && { items: field(name, spec.items, `${at}/items`) }) };
      case 'object':
        return { type: typed('object'), ...(spec.fields !== undefined && object(spec.fields, spec.additional_fields, at)) };
      case 'json':
        return spec.required ? { not: { type: 'null' } } : {};
    }
  };
  nodes.set('#', { name: type.name, expected: 'object', fields: Object.keys(type.fields) });
  const top = object(type.fields, type.additional_fields, '#');
  // The service's own fields are never undeclared: ingest checked them already (validate.ts).
  for (const own of OWN_FIELDS) (top.properties as Record<string, SchemaObject>)[own] ??= {};
  return { schema: { type: 'object', ...top }, nodes };
}
