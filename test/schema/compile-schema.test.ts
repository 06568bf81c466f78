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

describe("a violation's words", () => {
  it('repeat at most 40 characters of what was posted: a 400 does not echo a long value or field name back', () => {
    const enumMiss = example.check(signinBlob(1, { email_type: 'x'.repeat(10_000) }));
    expect(enumMiss?.reason).toBe(`email_type is "${'x'.repeat(40)}…"; signin wants one of primary, secondary`);
    const extra = example.check(signinBlob(1, { ['y'.repeat(10_000)]: 1 }));
    expect(extra?.path).toBe(`${'y'.repeat(40)}…`);
    expect(extra?.reason.length).toBeLessThan(400);
    const untyped = two.check({ event: 'z'.repeat(10_000), timestamp: 1 });
    expect(untyped?.reason.length).toBeLessThan(200);
    expect(two.check({ event: { nested: 'z'.repeat(10_000) }, timestamp: 1 })?.reason).toContain('it has event an object');
  });
});

describe('schemas at their edges', () => {
  const compiled = (text: string) => compileSchema(parseSchema(text, 'edge.toml'));

  it("additional_fields = false never refuses the service's own timestamp and _id", () => {
    const strict = compiled('[[types]]\nname = "a"\nadditional_fields = false\n[types.fields]\nn = "integer"\n');
    expect(strict.check({ timestamp: 1, _id: 'x1', n: 2 })).toBeUndefined();
    expect(strict.check({ timestamp: 1, m: 2 })).toMatchObject({ path: 'm', expected: 'no such field (a takes n)' });
  });

  it('an enum listing a value twice compiles (ajv would refuse it)', () => {
    const twice = compiled('[[types]]\nname = "a"\n[types.fields]\ne = { type = "enum", values = ["x", "x", 1] }\n');
    expect(twice.check({ timestamp: 1, e: 1 })).toBeUndefined();
    expect(twice.check({ timestamp: 1, e: 'y' })).toMatchObject({ path: 'e', expected: 'one of x, x, 1' });
  });

  it("truncate in an array of objects' fields; fields named like Object.prototype's are ordinary fields", () => {
    const deep = compiled(
      '[[types]]\nname = "a"\n[types.fields]\nconstructor = "integer"\nlist = { type = "array", items = { type = "object", fields = { b = { type = "string", max_length = 2, on_too_long = "truncate" } } } }\n',
    );
    const blob = { timestamp: 1, constructor: 3, list: [{ b: 'abcdef' }, { b: 'a' }, { c: 1 }] };
    expect(deep.check(blob)).toBeUndefined();
    expect(blob.list).toEqual([{ b: 'ab' }, { b: 'a' }, { c: 1 }]);
    expect(deep.check({ timestamp: 1, constructor: 'x' })).toMatchObject({ path: 'constructor', reason: 'constructor is a string of 1 character; a wants integer' });
    expect(deep.check({ timestamp: 1 })).toBeUndefined();
  });
});
