import type { StoredBlob } from '../store/store.js';

/** One CSV field (RFC 4180): nested values as JSON text, quoted when needed. */
function field(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: readonly unknown[]): string {
  return `${values.map(field).join(',')}\r\n`;
}

/** The header: `_id`, `timestamp`, then every other top-level field in the order first seen. */
export class CsvColumns {
  private readonly names = new Set<string>(['_id', 'timestamp']);

  add(blob: StoredBlob): void {
    for (const name of Object.keys(blob)) this.names.add(name);
  }

  get header(): string[] {
    return [...this.names];
  }

  row(blob: StoredBlob): string {
    return csvLine(this.header.map((name) => (blob as Record<string, unknown>)[name]));
  }
}
