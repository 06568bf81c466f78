/**
 * True when `value` nests objects/arrays deeper than `max` levels (a bare object is level 1).
 * Iterative, because the point is to refuse what would overflow a recursive walk later
 * (JSON.stringify, CouchDB's own parser).
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
