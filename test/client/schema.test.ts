import { KpiggybankClient, KpiggybankHttpError } from 'kpiggybank-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSchema } from '../../src/schema/load-schema.js';
import { startTestApp, type TestApp } from '../support/app.js';

const EXAMPLE = 'examples/browserid-signin.schema.toml';

/** A sign-in blob the example schema accepts. */
const signin = (fields: Record<string, unknown> = {}) => ({
  timestamp: 1338000000,
  lang: 'en-US',
  number_emails: 2,
  user_agent: { os: 'Linux', browser: 'Firefox', version: '14.0' },
  ...fields,
});

describe("the client and the service's event schema", () => {
  let withSchema: TestApp;
  let without: TestApp;
  beforeAll(async () => {
    withSchema = await startTestApp('memory', { schema: await loadSchema(EXAMPLE) });
    without = await startTestApp('memory');
  });
  afterAll(async () => {
    await Promise.all([withSchema, without].map((t) => t?.close()));
  });

  it("reads the service's schema, and undefined from a service without one", async () => {
    expect(await new KpiggybankClient(withSchema.url).schema()).toEqual(await loadSchema(EXAMPLE));
    expect(await new KpiggybankClient(without.url).schema()).toBeUndefined();
  });

  it('gives the schema_violation details of a refused batch: which blob, which field, what the schema wants', async () => {
    const client = new KpiggybankClient(withSchema.url);
    const before = await client.count();
    const error = await client.save([signin(), signin({ number_emails: 'two' })]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KpiggybankHttpError);
    const refused = error as KpiggybankHttpError;
    expect(refused).toMatchObject({ status: 400, code: 'schema_violation', index: 1, retryable: false });
    expect(refused.schemaViolation).toEqual({ index: 1, path: 'number_emails', expected: expect.stringMatching(/integer/), reason: refused.reason });
    expect(refused.reason).toMatch(/number_emails/);
    expect(await client.count()).toBe(before); // the whole batch refused
  });

  it("gives a single blob's violation at its nested path", async () => {
    const error = await new KpiggybankClient(withSchema.url).save(signin({ user_agent: { os: 'Linux', browser: 7 } })).catch((e: unknown) => e);
    expect((error as KpiggybankHttpError).schemaViolation).toMatchObject({ path: 'user_agent.browser', expected: expect.stringMatching(/string/) });
  });

  it('has no schemaViolation for any other error', async () => {
    const error = await new KpiggybankClient(without.url).save([{ timestamp: -1 }]).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, code: 'invalid_blob' });
    expect((error as KpiggybankHttpError).schemaViolation).toBeUndefined();
  });
});
