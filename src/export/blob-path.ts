// A path into a blob, as the config writes it ("user_agent.browser"), and reading the value there.
// Shared by the columns (row-shape.ts) and the filters (filter.ts), so that one path means the
// same field in both.

/** "user_agent.browser" → ['user_agent', 'browser']; a field whose name holds a dot cannot be named. */
export function parsePath(dotted: string): readonly string[] {
  return dotted.split('.');
}

/**
 * The value at `path`, or undefined when any step is missing. Only a blob's own fields count: a
 * blob without `constructor` has none, whatever Object.prototype holds. A step into an array is an
 * index ("event_stream.0"); a step into a string, number or boolean finds nothing.
 */
export function readPath(blob: unknown, path: readonly string[]): unknown {
  let value = blob;
  for (const step of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, step)) return undefined;
    if (Array.isArray(value) && !INDEX.test(step)) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

// An array's own keys are its indexes and `length`: only the indexes are fields.
const INDEX = /^(?:0|[1-9]\d*)$/;
