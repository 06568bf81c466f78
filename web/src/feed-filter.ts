import type { FeedBlob } from './messages.js';
import { summarize, type RowSummary } from './row-summary.js';

function searchText(id: string, s: RowSummary): string {
  return [id, s.when.text, s.when.iso, s.ua, s.lang, s.account, s.emails, s.outcome, s.duration].join('\n').toLowerCase();
}

/**
 * The filter box's test: a row matches when its shown fields (and its id) contain the query,
 * case-insensitively. Each blob's text is built once (blobs never change), so that typing over
 * 1,000 rows costs 1,000 string searches.
 */
export class FeedFilter {
  private readonly texts = new WeakMap<FeedBlob, string>();

  constructor(readonly query: string) {}

  get active(): boolean {
    return this.query.trim() !== '';
  }

  matches(blob: FeedBlob): boolean {
    const query = this.query.trim().toLowerCase();
    if (query === '') return true;
    let text = this.texts.get(blob);
    if (text === undefined) {
      text = searchText(blob._id, summarize(blob));
      this.texts.set(blob, text);
    }
    return text.includes(query);
  }
}
