import { csvLine, type FormulaPolicy } from '../formats/csv.js';
import type { StoredBlob } from '../store/store.js';

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
