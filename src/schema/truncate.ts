import type { FieldSpec } from 'kpiggybank-client/wire';

/** Cuts what is too long in a value, in place for objects and arrays; returns the value (a new one for a cut string). */
type Cutter = (value: unknown) => unknown;

/** The first `max` UTF-16 code units of `text`, one fewer rather than half a surrogate pair (which would not be well-formed text). */
export function cut(text: string, max: number): string {
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

function cutter(spec: FieldSpec): Cutter | undefined {
  if (spec.type === 'string' && spec.on_too_long === 'truncate' && spec.max_length !== undefined) {
    const max = spec.max_length;
    return (value) => (typeof value === 'string' && value.length > max ? cut(value, max) : value);
  }
  if (spec.type === 'object' && spec.fields !== undefined) {
    const inner = truncator(spec.fields);
    if (inner === undefined) return undefined;
    return (value) => {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) inner(value as Record<string, unknown>);
      return value;
    };
  }
  if (spec.type === 'array' && spec.items !== undefined) {
    const item = cutter(spec.items);
    if (item === undefined) return undefined;
    return (value) => {
      if (Array.isArray(value)) for (let i = 0; i < value.length; i++) value[i] = item(value[i]);
      return value;
    };
  }
  return undefined;
}

/**
 * What cuts the over-long strings of `on_too_long = "truncate"` fields of an object (a blob, run
 * after it passed its checks), built once per type; undefined when the fields have none, so that
 * most blobs pay nothing.
 */
export function truncator(fields: Readonly<Record<string, FieldSpec>>): ((object: Record<string, unknown>) => void) | undefined {
  const cutters: [string, Cutter][] = [];
  for (const [name, spec] of Object.entries(fields)) {
    const c = cutter(spec);
    if (c !== undefined) cutters.push([name, c]);
  }
  if (cutters.length === 0) return undefined;
  return (object) => {
    for (const [name, c] of cutters) {
      if (!Object.hasOwn(object, name)) continue;
      const before = object[name];
      const after = c(before);
      if (after !== before) object[name] = after;
    }
  };
}
