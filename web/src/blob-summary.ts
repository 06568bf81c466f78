import { isRecord, type FeedBlob } from './messages.js';

/**
 * Timestamps are stored as the client gave them, unix seconds or milliseconds (the seed's own
 * tests used milliseconds). Below 1e12 a value is taken as seconds: as milliseconds it would be
 * before 2001-09-09, while as seconds 1e12 is 33,000 years away.
 */
export function timestampMs(timestamp: number): number {
  return timestamp < 1e12 ? timestamp * 1000 : timestamp;
}

/** `user_agent` as a string, or the KPI data's `{browser, version, os}` object; "—" when absent. */
export function userAgentOf(blob: FeedBlob): string {
  const ua = blob.user_agent;
  if (typeof ua === 'string' && ua !== '') return ua;
  if (!isRecord(ua)) return '—';
  const part = (name: string) => (typeof ua[name] === 'string' || typeof ua[name] === 'number' ? String(ua[name]) : '');
  const text = [part('browser'), part('version')].filter((p) => p !== '').join(' ');
  const os = part('os');
  return (os === '' ? text : `${text} (${os})`).trim() || '—';
}

/**
 * The sign-in duration: the offset of the last `event_stream` entry (`[name, offset]`), which the
 * KPI data gives in milliseconds since the dialog opened, as seconds. Undefined when there is none.
 */
export function durationSecondsOf(blob: FeedBlob): number | undefined {
  const stream = blob.event_stream;
  if (!Array.isArray(stream) || stream.length === 0) return undefined;
  const last: unknown = stream[stream.length - 1];
  if (!Array.isArray(last) || typeof last[1] !== 'number' || !Number.isFinite(last[1])) return undefined;
  return last[1] / 1000;
}

export function formatDuration(seconds: number | undefined): string {
  return seconds === undefined ? '—' : `${seconds.toFixed(1)} s`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** A readable local date, and its ISO form for `<time datetime>`; invalid dates read "—". */
export function readableDate(timestamp: number): { text: string; iso: string } {
  const date = new Date(timestampMs(timestamp));
  if (Number.isNaN(date.getTime())) return { text: '—', iso: '' };
  return { text: dateFormat.format(date), iso: date.toISOString() };
}

/** `lang` as given (Persona's KPI data: the dialog's language, e.g. "en-US"); "—" when absent. */
export function langOf(blob: FeedBlob): string {
  return typeof blob.lang === 'string' && blob.lang.trim() !== '' ? blob.lang.trim() : '—';
}

/** `new_account`: "new" or "existing"; "—" when it is not a boolean. */
export function accountOf(blob: FeedBlob): string {
  return blob.new_account === true ? 'new' : blob.new_account === false ? 'existing' : '—';
}

/** `number_emails`, the emails the user has; "—" when it is not a count. */
export function emailsOf(blob: FeedBlob): string {
  const n = blob.number_emails;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? String(n) : '—';
}

/** One `event_stream` entry, `[name, offset]` (offset in ms since the dialog opened). */
export interface StreamEvent {
  name: string;
  offset: number;
}

/** The `event_stream` as `[name, offset]` entries, or undefined when it is absent or anything else. */
export function eventsOf(blob: FeedBlob): StreamEvent[] | undefined {
  const stream = blob.event_stream;
  if (!Array.isArray(stream)) return undefined;
  const events: StreamEvent[] = [];
  for (const entry of stream as unknown[]) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number' || !Number.isFinite(entry[1])) return undefined;
    events.push({ name: entry[0], offset: entry[1] });
  }
  return events;
}

/** An event named `name`, bare or after a prefix ("screen.", "user."…), as Persona's names vary. */
function named(events: readonly StreamEvent[], name: string): boolean {
  return events.some((e) => e.name === name || e.name.endsWith(`.${name}`));
}

/**
 * How the sign-in ended, from the event names: an assertion was generated ("signed in"), the user
 * cancelled ("cancelled"), or the window went away first ("closed"). "—" when none says.
 * A success counts even if a cancel came before it: the user went back and signed in.
 */
export function outcomeOf(blob: FeedBlob): string {
  const stream = blob.event_stream;
  if (!Array.isArray(stream)) return '—';
  const events = (stream as unknown[]).flatMap((e) => (Array.isArray(e) && typeof e[0] === 'string' ? [{ name: e[0], offset: 0 }] : []));
  if (named(events, 'assertion_generated')) return 'signed in';
  if (events.some((e) => /(^|[._])cancel/.test(e.name))) return 'cancelled';
  if (named(events, 'window.unload') || named(events, 'unload')) return 'closed';
  return '—';
}
