import { z } from 'zod';

// The declared event schema (SCHEMA_FILE): the service reads it from TOML at start, serves it at
// GET /wsapi/schema as JSON, and the exporter and the page read it back from there. One zod schema
// for all three, so that the file's rules and what clients receive cannot drift. Parsing fills the
// defaults: what the service serves is the schema as it applies it.

/** How a field's value is checked. */
export const FIELD_TYPES = ['string', 'integer', 'number', 'boolean', 'timestamp', 'enum', 'array', 'object', 'json'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** Field names and a type's name: what a column can be named after (ASCII, no dots: a dot would be a path). */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NameSchema = z.string().regex(NAME, { error: 'must be letters, digits and _ (not starting with a digit)' });

/** A value a discriminator or an enum can hold. */
const ScalarSchema = z.union([z.string(), z.number(), z.boolean()]);
export type Scalar = z.infer<typeof ScalarSchema>;

/** One field of a blob (or of an object inside one), after defaults. */
export interface FieldSpec {
  readonly type: FieldType;
  /** Absent (or null) is refused when true. */
  readonly required: boolean;
  /** string: the most characters (UTF-16 code units, as JavaScript counts) a value may have. */
  readonly max_length?: number;
  /** string with max_length: refuse an over-long value, or cut it to max_length and store it. */
  readonly on_too_long: 'reject' | 'truncate';
  /** enum: the values allowed. */
  readonly values?: readonly Scalar[];
  /** array: what each item must be (any value when absent). */
  readonly items?: FieldSpec;
  /** object: its declared fields (any object when absent). */
  readonly fields?: Readonly<Record<string, FieldSpec>>;
  /** object with fields: whether fields it does not declare are allowed. */
  readonly additional_fields: boolean;
}

/** `lang = "string"` is `lang = { type = "string" }`. */
const FieldSpecSchema: z.ZodType<FieldSpec, unknown> = z.lazy(() =>
  z.preprocess(
    (value) => (typeof value === 'string' ? { type: value } : value),
    z
      .strictObject({
        type: z.enum(FIELD_TYPES, { error: (issue) => `unknown type ${JSON.stringify(issue.input)}: one of ${FIELD_TYPES.join(', ')}` }),
        required: z.boolean().default(false),
        max_length: z.int().positive().optional(),
        on_too_long: z.enum(['reject', 'truncate']).default('reject'),
        values: z.array(ScalarSchema).min(1).optional(),
        items: FieldSpecSchema.optional(),
        fields: z.record(NameSchema, FieldSpecSchema).optional(),
        additional_fields: z.boolean().default(true),
      })
      .superRefine((field, ctx) => {
        const only = (key: keyof FieldSpec, types: readonly FieldType[]) => {
          if (field[key] !== undefined && !types.includes(field.type))
            ctx.addIssue({ code: 'custom', path: [key], message: `only a field of type ${types.join(' or ')} takes ${key}` });
        };
        only('max_length', ['string']);
        only('values', ['enum']);
        only('items', ['array']);
        only('fields', ['object']);
        if (field.type === 'enum' && field.values === undefined) ctx.addIssue({ code: 'custom', path: ['values'], message: 'an enum lists its values: values = ["a", "b"]' });
      }),
  ),
);

/** Which blobs a type is for: those whose top-level `field` equals `value`. */
const DiscriminatorSchema = z.strictObject({ field: NameSchema, value: ScalarSchema });
export type Discriminator = z.infer<typeof DiscriminatorSchema>;

export interface EventType {
  /** The type's name: the table an export of it loads into by default. */
  readonly name: string;
  /** Which blobs are of this type; absent: every blob (then it is the schema's only type). */
  readonly when?: Discriminator;
  /** The blob's fields (`timestamp` and `_id` are the service's own, checked as always). */
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** Whether a blob may carry top-level fields the type does not declare. */
  readonly additional_fields: boolean;
}

const EventTypeSchema = z.strictObject({
  name: NameSchema,
  when: DiscriminatorSchema.optional(),
  fields: z.record(NameSchema, FieldSpecSchema).default({}),
  additional_fields: z.boolean().default(true),
});

/** The whole schema: its types (a blob is of the first whose `when` it matches), and what becomes of a blob of none. */
export interface EventSchema {
  readonly types: readonly EventType[];
  /** A blob of no declared type: refused (400 schema_violation), or stored unchecked. */
  readonly untyped: 'reject' | 'accept';
}

/**
 * A blob's declared type: the first whose `when` it matches (a type without `when` is every
 * blob's); undefined when none does. The one rule the service's ingest and the export share.
 */
export function eventTypeOf(schema: EventSchema, blob: Readonly<Record<string, unknown>>): EventType | undefined {
  for (const type of schema.types) if (type.when === undefined || blob[type.when.field] === type.when.value) return type;
  return undefined;
}

export const EventSchemaSchema: z.ZodType<EventSchema, unknown> = z
  .strictObject({
    untyped: z.enum(['reject', 'accept']).default('reject'),
    types: z.array(EventTypeSchema).min(1, { error: 'declare at least one type: [[types]] with a name' }),
  })
  .superRefine((schema, ctx) => {
    const names = new Map<string, number>();
    schema.types.forEach((type, i) => {
      const first = names.get(type.name);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['types', i, 'name'], message: `"${type.name}" is the name of types[${first}] already` });
      names.set(type.name, i);
      if (type.when === undefined && schema.types.length > 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['types', i],
          message: 'a type without `when` is for every blob: it must be the only type (give it when = { field = "…", value = "…" })',
        });
      }
      for (const reserved of ['_id'])
        if (reserved in type.fields) ctx.addIssue({ code: 'custom', path: ['types', i, 'fields', reserved], message: `${reserved} is the service's own field` });
    });
    const seen = new Map<string, number>();
    schema.types.forEach((type, i) => {
      if (type.when === undefined) return;
      const key = JSON.stringify([type.when.field, type.when.value]);
      const first = seen.get(key);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['types', i, 'when'], message: `types[${first}] is selected by the same field and value` });
      seen.set(key, i);
    });
  });
