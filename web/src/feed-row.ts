import type { FeedBlob } from './messages.js';
import { summarize } from './row-summary.js';

function cell(className: string, label: string, text: string): HTMLSpanElement {
  const span = document.createElement('span');
  span.className = className;
  span.dataset.label = label; // narrow screens show it before the value (home.css), where the header is hidden
  span.textContent = text;
  return span;
}

/** One row of the feed. Blob content is untrusted: it only ever goes into textContent and attributes. */
export function feedRow(blob: FeedBlob): HTMLLIElement {
  const s = summarize(blob);
  const row = document.createElement('li');
  row.dataset.id = blob._id;
  const when = document.createElement('time');
  when.className = 'when';
  when.dateTime = s.when.iso;
  when.textContent = s.when.text;
  const ua = cell('ua', '', s.ua);
  ua.title = s.ua;
  const view = document.createElement('button');
  view.type = 'button';
  view.className = 'view';
  view.dataset.id = blob._id;
  view.textContent = 'view';
  view.setAttribute('aria-label', `view blob ${blob._id}`);
  row.append(
    when,
    ua,
    cell('lang', 'lang', s.lang),
    cell('account', 'account', s.account),
    cell('emails', 'emails', s.emails),
    cell('outcome', '', s.outcome),
    cell('duration', '', s.duration),
    view,
  );
  return row;
}
