// CSV cell encoding (RFC 4180) shared by everything that writes CSV for a spreadsheet user: the
// drain's stream and the exporter's files. It imports nothing of the service.

/**
 * What to do with a text that a spreadsheet would run as a formula. `escape` (the default) follows
 * OWASP's rule for CSV injection: a string starting with `=`, `+`, `-`, `@`, tab or CR gets a
 * leading `'`, which spreadsheets show as text. `raw` writes it as it is, for machine readers.
 */
export type FormulaPolicy = 'escape' | 'raw';

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV field: nested values as JSON text, dates as ISO text, quoted when needed. Only strings
 * (values and header names) are neutralised: a number such as -5 is a number, and a `'` in front
 * of it would turn it into text for every spreadsheet user; nested values start with `{` or `[`.
 */
function csvField(value: unknown, formulas: FormulaPolicy): string {
  if (value === undefined || value === null) return '';
  let text: string;
  if (typeof value === 'string') text = formulas === 'escape' && FORMULA_START.test(value) ? `'${value}` : value;
  else if (value instanceof Date) text = Number.isNaN(value.getTime()) ? '' : value.toISOString();
  else text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record: the fields joined by commas, ended by CRLF (RFC 4180). */
export function csvLine(values: readonly unknown[], formulas: FormulaPolicy): string {
  let line = '';
  for (let i = 0; i < values.length; i++) line += (i === 0 ? '' : ',') + csvField(values[i], formulas);
  return `${line}\r\n`;
}
