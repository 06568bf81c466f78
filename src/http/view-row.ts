import type { Shape } from 'kpiggybank-client/wire';
import type { RangeRow, StoredBlob } from '../store/store.js';

/**
 * A blob as the original's production backend answered reads: a row of its CouchDB view
 * `data/all` (`emit(doc.timestamp, doc)`), `{"key": timestamp, "id": id, "value": blob}`.
 * kpi-dashboard's importer reads `row.value` and `row.id`, Persona's `/last` reader
 * `result.value.<field>`. Written as text around the blob's own JSON, with no object per row:
 * ~0.5 µs more per ~440-byte blob than the blob alone (2.2 → 2.7 µs), and 17 % more bytes
 * (.scratch/row-encode.mts, 100,000 blobs, 3 rounds).
 */
function rowJson(blob: StoredBlob): string {
  return `{"key":${blob.timestamp},"id":${JSON.stringify(blob._id)},"value":${JSON.stringify(blob)}}`;
}

/** The JSON of one blob in the asked shape. */
export function encoderFor(shape: Shape): (blob: StoredBlob) => string {
  return shape === 'rows' ? rowJson : (blob) => JSON.stringify(blob);
}

/** The same texts from a range row, whose blob is JSON already: written around it, never parsed. */
export function rowEncoderFor(shape: Shape): (row: RangeRow) => string {
  return shape === 'rows' ? (row) => `{"key":${row.timestamp},"id":${JSON.stringify(row.id)},"value":${row.json}}` : (row) => row.json;
}
