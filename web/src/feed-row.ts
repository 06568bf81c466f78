import { durationSecondsOf, formatDuration, readableDate, userAgentOf } from './blob-summary.js';
import type { FeedBlob } from './messages.js';

/** One row of the feed. Blob content is untrusted: it only ever goes into textContent and attributes. */
export function feedRow(blob: FeedBlob): HTMLLIElement {
  const row = document.createElement('li');
  row.dataset.id = blob._id;
  const date = readableDate(blob.timestamp);
  const when = document.createElement('time');
  when.className = 'when';
  when.dateTime = date.iso;
  when.textContent = date.text;
  const ua = document.createElement('span');
  ua.className = 'ua';
  ua.textContent = userAgentOf(blob);
  ua.title = ua.textContent;
  const duration = document.createElement('span');
  duration.className = 'duration';
  duration.textContent = formatDuration(durationSecondsOf(blob));
  const view = document.createElement('button');
  view.type = 'button';
  view.className = 'view';
  view.dataset.id = blob._id;
  view.textContent = 'view';
  view.setAttribute('aria-label', `view blob ${blob._id}`);
  row.append(when, ua, duration, view);
  return row;
}
