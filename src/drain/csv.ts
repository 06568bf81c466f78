import type { StoredBlob } from '../store/store.js';

/**
 * What to do with a text that a spreadsheet would run as a formula. `escape` (the default) follows
 * OWASP's rule for CSV injection: a string starting with `=`, `+`, `-`, `@`, tab or CR gets a
 * leading `'`, which spreadsheets show as text. `raw` writes it as it is, for machine readers.
 */
type FormulaPolicy = 'escape' | 'raw';

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field (RFC 4180): nested values as JSON text, quoted when needed. Only strings (values
 * and header names) are neutralised: a JSON number such as -5 is a number, and a `'` in front of
 * it would turn it into text for every spreadsheet user; nested values start with `{` or `[`.
 */
function field(value: unknown, formulas: FormulaPolicy): string {
  if (value === undefined || value === null) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (formulas === 'escape' && typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvLine(values: readonly unknown[], formulas: FormulaPolicy): string {
  return `${values.map((value) => field(value, formulas)).join(',')}\r\n`;
}

/** The header: `_id`, `timestamp`, then every other top-level field in the order first seen. */
export class CsvColumns {
  private readonly names = new Set<string>(['_id', 'timestamp']);

  constructor(private readonly formulas: FormulaPolicy) {}

  add(blob: StoredBlob): void {
    for (const name of Object.keys(blob)) this.names.add(name);
  }

  get header(): string[] {
    return [...this.names];
  }

  headerLine(): string {
    return csvLine(this.header, this.formulas);
  }

  row(blob: StoredBlob): string {
    return csvLine(
      this.header.map((name) => (blob as Record<string, unknown>)[name]),
      this.formulas,
    );
  }
}
