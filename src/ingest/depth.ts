/** What makes a blob's nesting unacceptable: deeper than the limit, or a key JavaScript drops. */
type NestingProblem = { kind: 'too_deep' } | { kind: 'proto_key'; path: string };

/**
 * `__proto__` is an own key after JSON.parse, but copying the object (zod, PouchDB's clone, most
 * JSON tools downstream) assigns it, which sets a prototype instead of a field: the value vanishes
 * behind a 201. Such a blob is refused, at any depth.
 */
const PROTO = '__proto__';

/**
 * The first problem of `value`'s nesting (a bare object is level 1), or undefined. Iterative,
 * because the point is to refuse what would overflow a recursive walk later (JSON.stringify,
 * CouchDB's own parser); one walk checks both, since ingest walks every blob anyway.
 */
export function nestingProblem(value: unknown, max: number): NestingProblem | undefined {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) return { kind: 'too_deep' };
    if (!Array.isArray(node) && Object.hasOwn(node, PROTO)) return { kind: 'proto_key', path: pathTo(value, node, max) ?? PROTO };
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

/** Where `target` sits in `root`, as `a.b.0.__proto__`: recursion is safe, the walk above bounded the depth. */
function pathTo(root: unknown, target: object, max: number, at: string[] = []): string | undefined {
  if (root === target) return [...at, PROTO].join('.');
  if (root === null || typeof root !== 'object' || at.length >= max) return undefined;
  for (const [key, child] of Object.entries(root)) {
    const found = pathTo(child, target, max, [...at, key]);
    if (found) return found;
  }
  return undefined;
}
