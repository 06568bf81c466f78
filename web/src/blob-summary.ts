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
