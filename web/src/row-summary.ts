import { accountOf, durationSecondsOf, emailsOf, formatDuration, langOf, outcomeOf, readableDate, userAgentOf } from './blob-summary.js';
import type { FeedBlob } from './messages.js';

/** What a feed row shows of a blob, as text: what the row draws and what the filter searches. */
export interface RowSummary {
  when: { text: string; iso: string };
  ua: string;
  lang: string;
  account: string;
  emails: string;
  outcome: string;
  duration: string;
}

export function summarize(blob: FeedBlob): RowSummary {
  return {
    when: readableDate(blob.timestamp),
    ua: userAgentOf(blob),
    lang: langOf(blob),
    account: accountOf(blob),
    emails: emailsOf(blob),
    outcome: outcomeOf(blob),
    duration: formatDuration(durationSecondsOf(blob)),
  };
}
