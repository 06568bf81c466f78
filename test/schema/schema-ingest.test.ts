import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { ErrorBodySchema, IngestResponseSchema, Routes } from 'kpiggybank-client/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSchema } from '../../src/schema/load-schema.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { metric, serveApp, type TestApp } from '../support/app.js';
import { expectServedBy, type IngestPath } from '../support/served-by.js';
import { signinBlob } from './signin-blob.js';

// Issue 25's producer: wrong blobs of every kind against the example schema and a schema with
// discriminators, through both ingest paths, JSON and the legacy form; each refused with its
// path, index and expected, nothing stored, every blob of the refused POST counted.

const file = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const schemaOf = (path: string, edit: (text: string) => string = (text) => text) => parseSchema(edit(readFileSync(path, 'utf8')), path);
const EXAMPLE = file('../../examples/browserid-signin.schema.toml');
const TWO = file('two-types.schema.toml');

type Sent = { status: number; body: unknown };
type Way = { name: string; path: IngestPath; send: (url: string, blobs: unknown) => Promise<Sent> };

async function post(url: string, headers: Record<string, string>, body: string | Uint8Array<ArrayBuffer>): Promise<Sent> {
  const res = await fetch(`${url}${Routes.blobs}`, { method: 'POST', headers, body });
  return { status: res.status, body: await res.json() };
}
const form = (blobs: unknown) => `data=${encodeURIComponent(JSON.stringify(blobs))}`;
const JSON_TYPE = { 'content-type': 'application/json' };
const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };
const GZIP = { 'content-encoding': 'gzip' };
const WAYS: Way[] = [
  { name: 'JSON', path: 'fast', send: (url, blobs) => post(url, JSON_TYPE, JSON.stringify(blobs)) },
  { name: 'the legacy form data=', path: 'fast', send: (url, blobs) => post(url, FORM_TYPE, form(blobs)) },
  { name: 'gzip-encoded JSON', path: 'express', send: (url, blobs) => post(url, { ...JSON_TYPE, ...GZIP }, new Uint8Array(gzipSync(JSON.stringify(blobs)))) },
  { name: 'a gzip-encoded form', path: 'express', send: (url, blobs) => post(url, { ...FORM_TYPE, ...GZIP }, new Uint8Array(gzipSync(form(blobs)))) },
];
const [FAST_JSON] = WAYS as [Way];

const count = async (t: TestApp) => (await (await fetch(`${t.url}${Routes.count}`)).json()) as number;
const refusals = async (t: TestApp) => (await metric(t.url, 'kpiggybank_blobs_rejected_total{reason="schema_violation"}')) ?? 0;

const signin = (change: Record<string, unknown> = {}) => ({ event: 'signin', timestamp: 1_338_000_000, who: { device: { model: 'Pixel', cores: 8 } }, ...change });
const without = (blob: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(blob).filter(([k]) => k !== key));
const TYPES = 'one of signin (event = "signin"), signout (event = "signout")';

interface Case {
  name: string;
  schema: 'example' | 'two';
  bad: Record<string, unknown>;
  path: string;
  expected: string | RegExp;
}

const CASES: Case[] = [
  { name: 'a missing required field', schema: 'example', bad: without(signinBlob(1), 'number_emails'), path: 'number_emails', expected: 'present (required)' },
  { name: 'a missing required object', schema: 'example', bad: without(signinBlob(1), 'user_agent'), path: 'user_agent', expected: 'present (required)' },
  { name: 'a string over max_length (reject)', schema: 'example', bad: signinBlob(1, { lang: 'x'.repeat(36) }), path: 'lang', expected: 'string ≤ 35' },
  { name: 'a nested string over max_length', schema: 'example', bad: signinBlob(1, { user_agent: { os: 'x'.repeat(65) } }), path: 'user_agent.os', expected: 'string ≤ 64' },
  { name: 'a string for an integer', schema: 'example', bad: signinBlob(1, { number_emails: '2' }), path: 'number_emails', expected: 'integer' },
  { name: 'a fraction for an integer', schema: 'example', bad: signinBlob(1, { number_sites_signed_in: 1.5 }), path: 'number_sites_signed_in', expected: 'integer' },
  { name: 'a number for a nested string', schema: 'example', bad: signinBlob(1, { user_agent: { version: 15 } }), path: 'user_agent.version', expected: 'string ≤ 16' },
  { name: 'a string for a boolean', schema: 'example', bad: signinBlob(1, { new_account: 'yes' }), path: 'new_account', expected: 'boolean' },
  { name: 'null for a required field', schema: 'example', bad: signinBlob(1, { lang: null }), path: 'lang', expected: 'string ≤ 35' },
  {
    name: 'an undeclared field (a typo)',
    schema: 'example',
    bad: signinBlob(1, { numbr_emails: 2 }),
    path: 'numbr_emails',
    expected: /^no such field \(signin takes timestamp, local_timestamp, lang, .*, session\)$/,
  },
  {
    name: 'an undeclared nested field',
    schema: 'example',
    bad: signinBlob(1, { user_agent: { os: 'Linux', osx: '10' } }),
    path: 'user_agent.osx',
    expected: 'no such field (user_agent takes os, browser, version)',
  },
  { name: 'an enum miss', schema: 'example', bad: signinBlob(1, { email_type: 'tertiary' }), path: 'email_type', expected: 'one of primary, secondary' },
  {
    name: "an array's item of the wrong type",
    schema: 'example',
    bad: signinBlob(1, { event_stream: [['a', 0], ['b', 1], ['c', 2], 'd'] }),
    path: 'event_stream.3',
    expected: 'array',
  },
  { name: 'an array for an object', schema: 'example', bad: signinBlob(1, { screen_size: [1280, 800] }), path: 'screen_size', expected: 'object' },
  { name: 'a wrong type at depth 3', schema: 'two', bad: signin({ who: { device: { cores: 'four' } } }), path: 'who.device.cores', expected: 'integer' },
  { name: 'an unknown type', schema: 'two', bad: { event: 'signup', timestamp: 1 }, path: 'event', expected: TYPES },
  { name: 'no discriminator at all', schema: 'two', bad: { timestamp: 1, kind: 'signin' }, path: 'event', expected: TYPES },
  { name: 'a missing required field of the second type', schema: 'two', bad: { event: 'signout', timestamp: 1, payload: {} }, path: 'reason', expected: 'present (required)' },
  {
    name: 'an enum miss of the second type',
    schema: 'two',
    bad: { event: 'signout', timestamp: 1, reason: 'bored', payload: {} },
    path: 'reason',
    expected: 'one of timeout, user',
  },
  { name: 'null for a required json field', schema: 'two', bad: { event: 'signout', timestamp: 1, reason: 'user', payload: null }, path: 'payload', expected: 'any JSON value' },
  {
    name: 'a timestamp field as a date without a time',
    schema: 'two',
    bad: signin({ at: '2026-01-31' }),
    path: 'at',
    expected: 'timestamp (integer ≥ 0, or ISO 8601 date-time with offset)',
  },
  { name: 'a negative timestamp field', schema: 'two', bad: signin({ at: -5 }), path: 'at', expected: 'timestamp (integer ≥ 0, or ISO 8601 date-time with offset)' },
];

describe('validation at ingest against a declared event schema', () => {
  const apps = {} as Record<'example' | 'two' | 'accepting' | 'none', TestApp>;
  const good = (schema: Case['schema'], i: number) => (schema === 'example' ? signinBlob(i) : signin({ note: `n${i}` }));
  beforeAll(async () => {
    apps.example = await serveApp(new MemoryStore(), { schema: schemaOf(EXAMPLE) });
    apps.two = await serveApp(new MemoryStore(), { schema: schemaOf(TWO) });
    apps.accepting = await serveApp(new MemoryStore(), { schema: schemaOf(TWO, (text) => text.replace('untyped = "reject"', 'untyped = "accept"')) });
    apps.none = await serveApp(new MemoryStore());
  });
  afterAll(async () => {
    await Promise.all(Object.values(apps).map((t) => t.close()));
  });

  /** Sends `blobs` and expects the refusal: 400 schema_violation, nothing stored, every blob of the POST counted. */
  async function expectRefused(t: TestApp, way: Way, blobs: unknown, refused: number) {
    const [before, counted] = [await count(t), await refusals(t)];
    const res = await expectServedBy(t.metrics, way.path, () => way.send(t.url, blobs));
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    const body = ErrorBodySchema.parse(res.body);
    expect(body.error).toBe('schema_violation');
    expect(await count(t), 'nothing stored').toBe(before);
    expect((await refusals(t)) - counted, 'kpiggybank_blobs_rejected_total{reason="schema_violation"}').toBe(refused);
    return body;
  }

  it.each(CASES)('$name: 400 with its path, index and expected', async (c) => {
    const t = apps[c.schema];
    const body = await expectRefused(t, FAST_JSON, [good(c.schema, 1), c.bad, good(c.schema, 2)], 3);
    expect(body).toEqual({
      error: 'schema_violation',
      reason: expect.stringMatching(/^blob 1: /),
      index: 1,
      path: c.path,
      expected: c.expected instanceof RegExp ? expect.stringMatching(c.expected) : c.expected,
    });
    expect(body.reason).toContain(c.path);
  });

  it.each(WAYS)('a bad blob at index 57 of 100, posted as $name: refused whole, the same answer on either path', async (way) => {
    const blobs = Array.from({ length: 100 }, (_, i) => signinBlob(i));
    blobs[57] = signinBlob(57, { user_agent: { os: 'Linux', version: 15 } });
    const body = await expectRefused(apps.example, way, blobs, 100);
    expect(body).toEqual({
      error: 'schema_violation',
      reason: 'blob 57: user_agent.version is the integer 15; signin wants string ≤ 16',
      index: 57,
      path: 'user_agent.version',
      expected: 'string ≤ 16',
    });
  });

  it.each(WAYS)('a single bad blob posted as $name: no index', async (way) => {
    const body = await expectRefused(apps.example, way, signinBlob(1, { email_type: 'tertiary' }), 1);
    expect(body).toEqual({
      error: 'schema_violation',
      reason: 'the blob: email_type is "tertiary"; signin wants one of primary, secondary',
      path: 'email_type',
      expected: 'one of primary, secondary',
    });
  });

  it("a bad blob in one of a batch's arrays (Persona's queue): the index of its array, the reason names it", async () => {
    const body = await expectRefused(apps.example, FAST_JSON, [signinBlob(0), [signinBlob(1), signinBlob(2, { number_emails: 'two' })]], 3);
    expect(body).toMatchObject({ index: 1, path: 'number_emails', reason: expect.stringMatching(/^blob 1\.1: number_emails is a string/) });
  });

  it.each(WAYS)('valid blobs posted as $name are stored (201), as they were sent', async (way) => {
    const t = apps.example;
    const blobs = Array.from({ length: 100 }, (_, i) => signinBlob(i, { email_type: i % 2 === 0 ? 'primary' : null }));
    const before = await count(t);
    const res = await expectServedBy(t.metrics, way.path, () => way.send(t.url, blobs));
    expect(res.status).toBe(201);
    const { ids } = IngestResponseSchema.parse(res.body);
    expect(await count(t)).toBe(before + 100);
    expect(await t.store.get(ids[3]!)).toMatchObject(blobs[3]!);
  });

  it.each(WAYS)('truncate, posted as $name: an over-long string is stored cut to max_length (at depth 3 and in array items too)', async (way) => {
    const [example] = IngestResponseSchema.parse((await way.send(apps.example.url, [signinBlob(1, { user_agent: { os: 'Linux', version: '15.0.1.2.3.4.5.6.7.8' } })])).body).ids;
    expect(await apps.example.store.get(example!)).toMatchObject({ user_agent: { os: 'Linux', version: '15.0.1.2.3.4.5.6' } });
    const res = await way.send(apps.two.url, signin({ note: 'x'.repeat(25), tags: ['abcdefg', 'ab'], who: { device: { model: 'Pixel 8 Pro XL', cores: 8 } } }));
    expect(res.status).toBe(201);
    const [id] = IngestResponseSchema.parse(res.body).ids;
    expect(await apps.two.store.get(id!)).toMatchObject({ note: 'x'.repeat(10), tags: ['abcd', 'ab'], who: { device: { model: 'Pixel 8 ', cores: 8 } } });
  });

  it('untyped = "accept": a blob of no declared type is stored unchecked; one of a declared type is still checked', async () => {
    const t = apps.accepting;
    const blob = { event: 'signup', timestamp: 1, anything: { goes: [1, 'two'] } };
    const res = await FAST_JSON.send(t.url, [blob, { timestamp: 2 }]);
    expect(res.status).toBe(201);
    expect(await t.store.get(IngestResponseSchema.parse(res.body).ids[0]!)).toMatchObject(blob);
    const body = await expectRefused(t, FAST_JSON, [blob, signin({ who: 'me' })], 2);
    expect(body).toMatchObject({ index: 1, path: 'who', expected: 'object' });
  });

  it("the service's own checks come first: a blob without a timestamp is invalid_blob, not schema_violation", async () => {
    const res = await FAST_JSON.send(apps.example.url, [without(signinBlob(1), 'timestamp')]);
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_blob', index: 0 } });
  });

  it('without a schema, any blob is accepted as before', async () => {
    const res = await FAST_JSON.send(apps.none.url, [
      { timestamp: 1, numbr_emails: 'two' },
      { event: 'signup', timestamp: 2 },
    ]);
    expect(res.status).toBe(201);
  });
});
