import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileSchema } from '../../src/schema/compile-schema.js';
import { parseSchema } from '../../src/schema/load-schema.js';
import { cut } from '../../src/schema/truncate.js';
import { signinBlob } from './signin-blob.js';

const file = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const EXAMPLE = file('../../examples/browserid-signin.schema.toml');
const TWO = file('two-types.schema.toml');
const example = compileSchema(parseSchema(readFileSync(EXAMPLE, 'utf8'), EXAMPLE));
const twoText = readFileSync(TWO, 'utf8');
const two = compileSchema(parseSchema(twoText, TWO));

const signin = (extra: Record<string, unknown> = {}) => ({ event: 'signin', timestamp: 1_338_000_000, who: { device: { model: 'Pixel', cores: 8 } }, ...extra });

describe('compileSchema', () => {
  it('passes a sign-in blob as Persona posted it, unchanged', () => {
    const blob = signinBlob(1);
    const copy = structuredClone(blob);
    expect(example.check(blob)).toBeUndefined();
    expect(blob).toEqual(copy);
  });

  it.each([
    ['a missing required field', { number_emails: undefined }, 'number_emails', 'present (required)'],
    ['a string over max_length (reject)', { lang: 'x'.repeat(36) }, 'lang', 'string ≤ 35'],
    ['a wrong type at depth 2', { user_agent: { os: 'Linux', version: 15 } }, 'user_agent.version', 'string ≤ 16'],
    ['an undeclared top-level field', { numbr_emails: 2 }, 'numbr_emails', expect.stringMatching(/^no such field \(signin takes timestamp, local_timestamp, lang, /)],
    ['an undeclared nested field', { user_agent: { os: 'Linux', osx: 1 } }, 'user_agent.osx', 'no such field (user_agent takes os, browser, version)'],
    ['an enum miss', { email_type: 'tertiary' }, 'email_type', 'one of primary, secondary'],
    ['an array item of the wrong type', { event_stream: [['a', 1], 'b'] }, 'event_stream.1', 'array'],
    ['null for a required field', { lang: null }, 'lang', 'string ≤ 35'],
    ['a fraction for an integer', { number_emails: 2.5 }, 'number_emails', 'integer'],
  ])('%s: the path and what is expected', (_, change, path, expected) => {
    const blob = { ...signinBlob(1), ...change };
    for (const [key, value] of Object.entries(change)) if (value === undefined) delete (blob as Record<string, unknown>)[key];
    const violation = example.check(blob);
    expect(violation).toEqual({ reason: expect.stringContaining(path), path, expected, type: 'signin' });
  });

  it('accepts null for an optional field, and a timestamp as seconds, milliseconds or ISO text with an offset', () => {
    expect(example.check({ ...signinBlob(1), email_type: null, session: null })).toBeUndefined();
    for (const at of [0, 1_338_000_000, 1_338_000_000_123, '2026-01-31T10:00:00Z', '2026-01-31 10:00:00.5+02:00']) expect(two.check(signin({ at }))).toBeUndefined();
    for (const at of [-1, 1.5, '2026-01-31', '2026-01-31T10:00:00', 'yesterday', true]) {
      expect(two.check(signin({ at }))).toMatchObject({ path: 'at', expected: 'timestamp (integer ≥ 0, or ISO 8601 date-time with offset)' });
    }
  });

  it('truncate: cuts over-long strings in place, at depth 3 and in array items, and only those', () => {
    const blob = signin({ note: 'a'.repeat(12), tags: ['abcdef', 'ab'], who: { device: { model: 'Pixel 8 Pro XL', cores: 8 } } });
    expect(two.check(blob)).toBeUndefined();
    expect(blob).toMatchObject({ note: 'a'.repeat(10), tags: ['abcd', 'ab'], who: { device: { model: 'Pixel 8 ' } } });
    const version = { ...signinBlob(1), user_agent: { os: 'Linux', browser: 'Firefox', version: '15.0.1.2.3.4.5.6.7.8' } };
    expect(example.check(version)).toBeUndefined();
    expect(version.user_agent.version).toBe('15.0.1.2.3.4.5.6');
  });

  it('truncate never leaves half a surrogate pair', () => {
    expect(cut('abc😀', 4)).toBe('abc');
    expect(cut('ab😀c', 4)).toBe('ab😀');
  });

  it('max_length counts UTF-16 code units, as truncate cuts', () => {
    expect(example.check({ ...signinBlob(1), lang: '😀'.repeat(17) })).toBeUndefined(); // 34 units
    expect(example.check({ ...signinBlob(1), lang: '😀'.repeat(18) })).toMatchObject({ path: 'lang' }); // 36 units, 18 code points
  });

  it('selects the type by its discriminator; a blob of none is refused naming the discriminator and the types', () => {
    expect(two.check(signin())).toBeUndefined();
    expect(two.check({ event: 'signout', timestamp: 1, reason: 'user', payload: [1] })).toBeUndefined();
    expect(two.check({ event: 'signout', timestamp: 1, reason: 'bored', payload: 1 })).toMatchObject({ path: 'reason', expected: 'one of timeout, user', type: 'signout' });
    expect(two.check({ event: 'signout', timestamp: 1, reason: 'user', payload: null })).toMatchObject({ path: 'payload', expected: 'any JSON value' });
    expect(two.check(signin({ who: { device: { cores: 'four' } } }))).toMatchObject({ path: 'who.device.cores', expected: 'integer', type: 'signin' });
    const expected = 'one of signin (event = "signin"), signout (event = "signout")';
    const unknown = two.check({ event: 'signup', timestamp: 1 });
    expect(unknown).toEqual({ reason: expect.stringContaining('event "signup"'), path: 'event', expected });
    expect(two.check({ timestamp: 1 })).toEqual({ reason: expect.stringContaining('no event'), path: 'event', expected });
  });

  it('untyped = "accept": a blob of no declared type passes unchecked', () => {
    const accepting = compileSchema(parseSchema(twoText.replace('untyped = "reject"', 'untyped = "accept"'), TWO));
    expect(accepting.check({ event: 'signup', timestamp: 1, anything: { goes: true } })).toBeUndefined();
    expect(accepting.check(signin({ who: 1 }))).toMatchObject({ path: 'who', expected: 'object' });
  });
});
