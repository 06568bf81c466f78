import { describe, expect, it } from 'vitest';
import { isStorableMs, SECONDS_BELOW, timestampMs, timestampToDate } from '../../src/export/timestamp.js';
import { parseIsoMs } from '../../src/formats/iso-time.js';

describe('a blob timestamp, seconds or milliseconds', () => {
  it('reads a timestamp below 1e11 as seconds, and 1e11 and above as milliseconds', () => {
    expect(timestampToDate(1_338_000_000).toISOString()).toBe('2012-05-26T02:40:00.000Z');
    expect(timestampToDate(1_338_000_000_123).toISOString()).toBe('2012-05-26T02:40:00.123Z');
    // the boundary: the last second-timestamp is the year 5138; the first ms one is 1973-03-03
    expect(timestampToDate(SECONDS_BELOW - 1).toISOString()).toBe('5138-11-16T09:46:39.000Z');
    expect(timestampToDate(SECONDS_BELOW).toISOString()).toBe('1973-03-03T09:46:40.000Z');
    expect(timestampToDate(0).toISOString()).toBe('1970-01-01T00:00:00.000Z');
    expect(timestampMs(1_700_000_000)).toBe(1_700_000_000_000);
    expect(timestampMs(1_700_000_000_000)).toBe(1_700_000_000_000);
  });

  it('clamps `at` to the year 9999 for a timestamp past it (the `timestamp` column keeps the value)', () => {
    expect(timestampToDate(Number.MAX_SAFE_INTEGER).toISOString()).toBe('9999-12-31T23:59:59.999Z');
    expect(timestampToDate(253_402_300_800_000).toISOString()).toBe('9999-12-31T23:59:59.999Z');
    expect(timestampToDate(253_402_300_799_999).toISOString()).toBe('9999-12-31T23:59:59.999Z');
    expect(timestampToDate(253_402_300_799_000).toISOString()).toBe('9999-12-31T23:59:59.000Z');
    expect(isStorableMs(253_402_300_800_000)).toBe(false);
    expect(isStorableMs(Date.parse('0001-01-01T00:00:00Z'))).toBe(true);
    expect(isStorableMs(Date.parse('0001-01-01T00:00:00Z') - 1)).toBe(false);
  });
});

describe('parseIsoMs', () => {
  it('reads a date as midnight UTC and a date-time with Z or an offset', () => {
    expect(parseIsoMs('2026-01-31')).toBe(Date.UTC(2026, 0, 31));
    expect(parseIsoMs('2026-01-31T10:00:00Z')).toBe(Date.UTC(2026, 0, 31, 10));
    expect(parseIsoMs('2026-01-31T10:00:00.5Z')).toBe(Date.UTC(2026, 0, 31, 10, 0, 0, 500));
    expect(parseIsoMs('2026-01-31T10:00:00.123456+02:00')).toBe(Date.UTC(2026, 0, 31, 8, 0, 0, 123));
    expect(parseIsoMs('2026-01-31 10:00:00-0130')).toBe(Date.UTC(2026, 0, 31, 11, 30));
    expect(parseIsoMs('2026-01-31T10:00Z')).toBe(Date.UTC(2026, 0, 31, 10));
  });

  it('refuses what is not an ISO instant: no offset (the zone would be a guess), no such day, other text', () => {
    for (const text of [
      '2026-01-31T10:00:00',
      '2026-02-30',
      '2026-02-30T00:00:00Z',
      '2026-13-01',
      '2026-01-31T25:00:00Z',
      'March 7, 2026',
      '1338000000',
      '',
      ' 2026-01-31',
      '2026-01-31T10:00:00Z ',
      "=cmd|' /C calc'!A0",
    ]) {
      expect(parseIsoMs(text), text).toBeUndefined();
    }
    expect(parseIsoMs('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseIsoMs('2025-02-29')).toBeUndefined();
  });
});
