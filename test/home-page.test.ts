import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { EventSchemaSchema, FeedMessageSchema } from 'kpiggybank-client/wire';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../src/http/api-catalog.js';
import { WEB_ASSETS } from '../src/http/home.js';
import { accountOf, durationSecondsOf, emailsOf, eventsOf, formatDuration, langOf, outcomeOf, readableDate, timestampMs, userAgentOf } from '../web/src/blob-summary.js';
import { parseFeedMessage } from '../web/src/messages.js';
import { busiestKnown, MinuteHistogram } from '../web/src/minute-histogram.js';
import { RateMeter } from '../web/src/rate-meter.js';
import { counterValue } from '../web/src/prometheus-text.js';
import { fieldRows, readEventSchema, selectorOf } from '../web/src/schema-summary.js';
import { loadSchema } from '../src/schema/load-schema.js';
import { startTestApp, type TestApp } from './support/app.js';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

describe('GET / and the page assets', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('memory', { tokens: { read: 'r3ad' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['no Accept header', undefined],
    ['*/*', '*/*'],
    ['application/json', 'application/json'],
    ['JSON preferred over HTML', 'application/json, text/html;q=0.5'],
  ])('answers the JSON list of routes, as before the page, to %s', async (_name, accept) => {
    const req = request(t.app).get('/');
    const res = await (accept === undefined ? req.unset('Accept') : req.set('Accept', accept));
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json');
    expect(res.body).toEqual({ service: 'kpiggybank', backend: 'memory', api: API_ROUTES.map((r) => r.route) });
    expect(res.body.api).toContain('WebSocket /wsapi/changes?since=');
  });

  it('serves the page to a browser, with the API table in the HTML itself, open even with a read token, under a CSP', async () => {
    const res = await request(t.app).get('/').set('Accept', BROWSER_ACCEPT);
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/html');
    expect(res.headers.vary).toMatch(/Accept/);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    // it may connect to its own origin only (supertest asks for 127.0.0.1:<port>), no other WebSocket host
    const host = new URL(res.request.url).host;
    expect(/connect-src ([^;]*)/.exec(csp)?.[1]).toBe(`'self' ws://${host} wss://${host}`);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    // every route is a row of the table, readable without JavaScript
    for (const { route } of API_ROUTES) {
      const [method, route_path] = [route.slice(0, route.indexOf(' ')), route.slice(route.indexOf(' ') + 1)];
      const escaped = route_path.replace(/&/g, '&#38;');
      expect(res.text).toContain(`<tr><td>${method}</td><td><code>${escaped}</code></td>`);
    }
    // everything the page loads comes from this service
    const loads = [...res.text.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    expect(loads).toEqual(expect.arrayContaining(['/assets/home.js', '/assets/home.css']));
    for (const url of loads) expect(url).toMatch(/^\/[^/]/);
  });

  it('serves the compiled page script, every module it imports, and the stylesheet', async () => {
    const seen = new Set<string>();
    const visit = async (file: string): Promise<void> => {
      if (seen.has(file)) return;
      seen.add(file);
      const res = await request(t.app).get(`/assets/${file}`);
      expect(res.status, `/assets/${file} (run npm run build first)`).toBe(200);
      expect(res.type).toBe('text/javascript');
      for (const [, imported] of String(res.text).matchAll(/\bfrom '\.\/([\w-]+\.js)'/g)) await visit(imported!);
    };
    await visit('home.js');
    expect(seen.size).toBeGreaterThan(5);
    const css = await request(t.app).get('/assets/home.css');
    expect(css.status).toBe(200);
    expect(css.type).toBe('text/css');
    expect(await readFile(path.join(WEB_ASSETS.styles, 'home.css'), 'utf8')).not.toMatch(/url\(\s*['"]?https?:/);
    expect((await request(t.app).get('/assets/nothing.js')).status).toBe(404);
  });
});

describe("the page's reading of the event schema and of the rejection counter", () => {
  it('reads what GET /wsapi/schema serves, and shows each field by its path with its type, required and max length', async () => {
    const schema = await loadSchema('examples/browserid-signin.schema.toml');
    const served: unknown = JSON.parse(JSON.stringify(schema));
    expect(readEventSchema(served)).toEqual(schema);
    const [signin] = schema.types;
    expect(selectorOf(signin!)).toBe('every blob');
    const rows = fieldRows(signin!.fields);
    expect(rows.map((r) => r.path)).toEqual([
      'timestamp',
      'local_timestamp',
      'lang',
      'new_account',
      'email_type',
      'number_emails',
      'number_sites_signed_in',
      'number_sites_remembered',
      'orphaned',
      'sample_rate',
      'screen_size',
      'screen_size.width',
      'screen_size.height',
      'user_agent',
      'user_agent.os',
      'user_agent.browser',
      'user_agent.version',
      'event_stream',
      'session',
    ]);
    const row = (path: string) => rows.find((r) => r.path === path);
    expect(row('lang')).toEqual({ path: 'lang', type: 'string', required: true, maxLength: '35' });
    expect(row('user_agent.version')).toEqual({ path: 'user_agent.version', type: 'string', required: false, maxLength: '16, longer cut' });
    expect(row('email_type')?.type).toBe('enum: primary, secondary');
    expect(row('user_agent')?.type).toBe('object, no other fields');
    expect(row('screen_size')?.type).toBe('object');
    expect(row('event_stream')?.type).toBe('array of array');
  });

  it('names a discriminated type by its field and value, and an array of objects by its items', () => {
    const schema = EventSchemaSchema.parse({
      untyped: 'accept',
      types: [{ name: 'signin', when: { field: 'event', value: 'signin' }, fields: { steps: { type: 'array', items: { type: 'object', fields: { name: 'string' } } } } }],
    });
    expect(readEventSchema(schema)).toEqual(schema);
    expect(selectorOf(schema.types[0]!)).toBe('event = "signin"');
    expect(fieldRows(schema.types[0]!.fields).map((r) => [r.path, r.type])).toEqual([
      ['steps', 'array of object'],
      ['steps[].name', 'string'],
    ]);
  });

  it.each([
    undefined,
    null,
    [],
    {},
    { types: 'signin' },
    { types: [{ name: 1, fields: {} }] },
    { types: [{ name: 'a', fields: { x: 'string' } }] },
    { types: [{ name: 'a', fields: {}, when: 'x' }] },
  ])('reads anything else as no schema: %j', (value) => {
    expect(readEventSchema(value)).toBeUndefined();
  });

  it("takes the counter's value for the labels asked for from the Prometheus text, 0 before it first counts", () => {
    const text = [
      '# HELP kpiggybank_blobs_rejected_total Blobs refused, by reason (the error code of the answer)',
      '# TYPE kpiggybank_blobs_rejected_total counter',
      'kpiggybank_blobs_rejected_total{reason="invalid_blob"} 7',
      'kpiggybank_blobs_rejected_total{reason="schema_violation"} 12',
      'kpiggybank_blobs_rejected_total_other{reason="schema_violation"} 99',
      'kpiggybank_blobs_accepted_total 40',
    ].join('\n');
    expect(counterValue(text, 'kpiggybank_blobs_rejected_total', { reason: 'schema_violation' })).toBe(12);
    expect(counterValue(text, 'kpiggybank_blobs_rejected_total', { reason: 'too_deep' })).toBe(0);
    expect(counterValue(text, 'kpiggybank_blobs_accepted_total', {})).toBe(40);
    expect(counterValue('kpiggybank_x{a="1",b="say \\"hi\\""} 3', 'kpiggybank_x', { b: 'say "hi"' })).toBe(3);
  });
});

describe("the page's own parsing of the feed", () => {
  const samples = [
    { type: 'change', seq: '7', id: 'a', doc: { _id: 'a', timestamp: 1338000000, lang: 'en-US' } },
    { type: 'change', seq: '8-g1AAAA', id: 'a', deleted: true, doc: { _id: 'a', _deleted: true } },
    { type: 'live', seq: '8' },
    { type: 'live', seq: null },
  ];

  it.each(samples)('reads what the wire schema accepts: %j', (sample) => {
    expect(FeedMessageSchema.safeParse(sample).success).toBe(true);
    const parsed = parseFeedMessage(JSON.stringify(sample));
    expect(parsed).toMatchObject({ type: sample.type, seq: sample.seq });
    if (sample.type === 'change') expect(parsed).toMatchObject({ id: sample.id, deleted: sample.deleted === true });
  });

  it.each([
    'not json',
    '[]',
    '{"type":"change","seq":7,"id":"a","doc":{"_id":"a","timestamp":1}}',
    '{"type":"change","seq":"7","id":"a","doc":{"_id":"a","timestamp":"yesterday"}}',
    '{"type":"change","seq":"7","id":"a"}',
    '{"type":"live"}',
    '{"type":"other","seq":"1"}',
  ])('ignores what is not a feed message: %s', (text) => {
    expect(parseFeedMessage(text)).toBeUndefined();
  });
});

describe("a blob's summary in the feed", () => {
  const blob = (fields: Record<string, unknown>) => ({ _id: 'x', timestamp: 1338000000, ...fields });

  it('reads the user agent as a string or as the KPI data {browser, version, os}', () => {
    expect(userAgentOf(blob({ user_agent: 'Mozilla/5.0 (X11; Linux) Firefox/14.0' }))).toBe('Mozilla/5.0 (X11; Linux) Firefox/14.0');
    expect(userAgentOf(blob({ user_agent: { browser: 'Firefox', version: '14.0', os: 'Macintosh' } }))).toBe('Firefox 14.0 (Macintosh)');
    expect(userAgentOf(blob({ user_agent: { os: 'Linux' } }))).toBe('(Linux)');
    expect(userAgentOf(blob({}))).toBe('—');
    expect(userAgentOf(blob({ user_agent: ['<b>x</b>'] }))).toBe('—');
  });

  it("takes the duration from the last event_stream entry's offset (ms), shown in seconds", () => {
    expect(
      durationSecondsOf(
        blob({
          event_stream: [
            ['screen.rp_info', 0],
            ['window.complete', 12_345],
          ],
        }),
      ),
    ).toBe(12.345);
    expect(formatDuration(12.345)).toBe('12.3 s');
    expect(durationSecondsOf(blob({ event_stream: [] }))).toBeUndefined();
    expect(durationSecondsOf(blob({ event_stream: [['x', 'soon']] }))).toBeUndefined();
    expect(durationSecondsOf(blob({}))).toBeUndefined();
    expect(formatDuration(undefined)).toBe('—');
  });

  it("reads Persona's lang, new_account and number_emails, and '—' for anything else", () => {
    expect([langOf(blob({ lang: 'de-DE' })), langOf(blob({})), langOf(blob({ lang: 7 })), langOf(blob({ lang: ' ' }))]).toEqual(['de-DE', '—', '—', '—']);
    expect([accountOf(blob({ new_account: true })), accountOf(blob({ new_account: false })), accountOf(blob({ new_account: 'yes' }))]).toEqual(['new', 'existing', '—']);
    expect([emailsOf(blob({ number_emails: 3 })), emailsOf(blob({ number_emails: 0 })), emailsOf(blob({ number_emails: -1 })), emailsOf(blob({ number_emails: '2' }))]).toEqual([
      '3',
      '0',
      '—',
      '—',
    ]);
  });

  it('takes the outcome from the event names: an assertion is a sign-in, whatever came before; else a cancel; else the window closing', () => {
    const outcome = (...names: string[]) => outcomeOf(blob({ event_stream: names.map((n, i) => [n, i * 100]) }));
    expect(outcome('screen.rp_info', 'assertion_generated')).toBe('signed in');
    expect(outcome('screen.rp_info', 'cancel', 'user.assertion_generated')).toBe('signed in');
    expect(outcome('screen.rp_info', 'cancel')).toBe('cancelled');
    expect(outcome('screen.rp_info', 'window.unload')).toBe('closed');
    expect(outcome('screen.rp_info', 'window.complete')).toBe('—');
    expect(outcomeOf(blob({}))).toBe('—');
    expect(outcomeOf(blob({ event_stream: 'assertion_generated' }))).toBe('—');
  });

  it('reads event_stream as [name, offset] entries, or not at all', () => {
    expect(
      eventsOf(
        blob({
          event_stream: [
            ['a', 0],
            ['b', 12],
          ],
        }),
      ),
    ).toEqual([
      { name: 'a', offset: 0 },
      { name: 'b', offset: 12 },
    ]);
    expect(eventsOf(blob({ event_stream: [['a', 0], ['b']] }))).toBeUndefined();
    expect(eventsOf(blob({}))).toBeUndefined();
  });

  it('takes a timestamp below 1e12 as seconds and one above as milliseconds', () => {
    expect(timestampMs(1338000000)).toBe(1338000000_000);
    expect(timestampMs(1333046104322)).toBe(1333046104322);
    expect(readableDate(1338000000).iso).toBe('2012-05-26T02:40:00.000Z');
    expect(readableDate(1338000000_000).iso).toBe('2012-05-26T02:40:00.000Z');
    expect(readableDate(Number.MAX_VALUE)).toEqual({ text: '—', iso: '' });
  });
});

describe('the chart and rate arithmetic', () => {
  it('counts blobs per minute over the last hour, and marks minutes before what was loaded as unknown', () => {
    const now = Date.UTC(2026, 0, 1, 12, 30, 30);
    const h = new MinuteHistogram();
    expect(h.bars(now).every((b) => !b.known)).toBe(true); // nothing is known before the load
    h.loaded();
    h.add(now);
    h.add(now - 1000);
    h.add(now - 10 * 60_000);
    h.add(now - 2 * 3600_000); // older than the hour: dropped
    let bars = h.bars(now);
    expect(bars).toHaveLength(60);
    expect(bars.at(-1)).toMatchObject({ start: Date.UTC(2026, 0, 1, 12, 30), count: 2, known: true });
    expect(bars.at(-11)!.count).toBe(1);
    expect(bars.reduce((sum, b) => sum + b.count, 0)).toBe(3);
    h.loaded(now - 20 * 60_000 - 5000); // the load reached back only into that minute
    bars = h.bars(now);
    expect(bars.filter((b) => !b.known)).toHaveLength(40);
    expect(bars.at(-20)!.known).toBe(true);
  });

  it('takes the busiest minute from the known minutes only: a partly loaded one says nothing of its size', () => {
    const bar = (count: number, known: boolean, start = 0) => ({ start, count, known });
    expect(busiestKnown([bar(996, false), bar(4, true, 1), bar(3, true, 2)])).toEqual(bar(4, true, 1));
    expect(busiestKnown([bar(996, false)])).toBeUndefined();
  });

  it('gives the rate over a sliding window, and over the time watched while younger than it', () => {
    const start = 1_000_000;
    const rate = new RateMeter(10_000, start);
    for (let i = 0; i < 20; i++) rate.record(start + i * 100); // 20 in the first 2 s
    expect(rate.rate(start + 2000)).toBe(10);
    expect(rate.rate(start + 9_999)).toBeCloseTo(2, 3); // all 20 within the last 10 s
    expect(rate.rate(start + 10_000)).toBe(1); // the first second's 10 left the window
    expect(rate.rate(start + 30_000)).toBe(0);
  });
});
