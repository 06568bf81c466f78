import { EventSchemaSchema, Routes } from 'kpiggybank-client/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../src/http/api-catalog.js';
import { loadSchema } from '../src/schema/load-schema.js';
import { startTestApp, type TestApp } from './support/app.js';

const EXAMPLE = 'examples/browserid-signin.schema.toml';

describe('GET /wsapi/schema', () => {
  let withSchema: TestApp;
  let without: TestApp;
  let guarded: TestApp;
  beforeAll(async () => {
    const schema = await loadSchema(EXAMPLE);
    withSchema = await startTestApp('memory', { schema });
    without = await startTestApp('memory');
    guarded = await startTestApp('memory', { schema, tokens: { read: 'r3ad' } });
  });
  afterAll(async () => {
    await Promise.all([withSchema, without, guarded].map((t) => t?.close()));
  });

  it('answers the active schema as JSON, defaults filled, as the wire schema reads it', async () => {
    const res = await fetch(`${withSchema.url}${Routes.schema}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body: unknown = await res.json();
    expect(body).toEqual(await loadSchema(EXAMPLE));
    expect(EventSchemaSchema.parse(body)).toEqual(body); // nothing left to fill: the service applies what it serves
    // the defaults the file leaves out are there: a shorthand field, an object's fields, the untyped choice
    expect(body).toMatchObject({
      untyped: 'reject',
      types: [
        {
          name: 'signin',
          additional_fields: false,
          fields: {
            local_timestamp: { type: 'string', required: false, on_too_long: 'reject', additional_fields: true },
            user_agent: { type: 'object', required: true, additional_fields: false, fields: { version: { type: 'string', max_length: 16, on_too_long: 'truncate' } } },
          },
        },
      ],
    });
  });

  it('answers 404 not_found, saying why, without a schema', async () => {
    const res = await fetch(`${without.url}${Routes.schema}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not_found', reason: 'this service has no event schema (SCHEMA_FILE is not set): it accepts any blob' });
  });

  it('needs the read token when one is set, like the other reads', async () => {
    const refused = await fetch(`${guarded.url}${Routes.schema}`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'unauthorized' });
    expect((await fetch(`${guarded.url}${Routes.schema}`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const allowed = await fetch(`${guarded.url}${Routes.schema}`, { headers: { authorization: 'Bearer r3ad' } });
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toEqual(await loadSchema(EXAMPLE));
  });

  it('is listed in the API catalog', () => {
    expect(API_ROUTES.map((r) => r.route)).toContain(`GET ${Routes.schema}`);
  });
});
