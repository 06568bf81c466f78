import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('reads the allowed origins and hosts as lists, and names a bad origin', () => {
    expect(loadConfig({}).origins).toEqual({ allowedOrigins: [], allowedHosts: undefined });
    const c = loadConfig({ ALLOWED_ORIGINS: 'https://dash.example, http://127.0.0.1:8000/ ,', ALLOWED_HOSTS: 'kpi.example,*' });
    expect(c.origins).toEqual({ allowedOrigins: ['https://dash.example', 'http://127.0.0.1:8000'], allowedHosts: ['kpi.example', '*'] });
    expect(loadConfig({ ALLOWED_ORIGINS: '*' }).origins.allowedOrigins).toEqual(['*']);
    expect(() => loadConfig({ ALLOWED_ORIGINS: 'https://dash.example/app' })).toThrow(/ALLOWED_ORIGINS must be a comma-separated list of origins/);
    expect(() => loadConfig({ ALLOWED_ORIGINS: 'dash.example' })).toThrow(ConfigError);
    expect(() => loadConfig({ ALLOWED_HOSTS: 'kpi.example:3000' })).toThrow(/ALLOWED_HOSTS must be/);
  });

  it("keeps the seed's variables and defaults, with the embedded store as default backend", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ backend: 'leveldb', host: '127.0.0.1', port: 3000, mode: 'dev', logLevel: 'info', dbName: 'bid_kpi' });
    expect(c.couch).toEqual({ url: 'http://127.0.0.1:5984', username: 'kpiggybank', password: 'kpiggybank' });
    expect(c.dataDir).toMatch(/\/data$/);
    expect(c.limits).toEqual({ maxBodyBytes: 1048576, maxBatchBlobs: 10000, maxDepth: 32 });
  });

  it('sizes group-commit writes for the backend unless BATCH_MAX_DOCS says', () => {
    expect(loadConfig({}).groupCommit.maxItems).toBe(5000); // leveldb: each batch costs an fsync
    expect(loadConfig({ DB_BACKEND: 'couchdb' }).groupCommit.maxItems).toBe(500);
    expect(loadConfig({ BATCH_MAX_DOCS: '100' }).groupCommit.maxItems).toBe(100);
  });

  it('reads DB_BACKEND=pouchdb, the former embedded backend, as leveldb, and remembers the name given', () => {
    expect(loadConfig({ DB_BACKEND: 'pouchdb' })).toMatchObject({ backend: 'leveldb', backendAlias: 'pouchdb' });
    expect(loadConfig({ DB_BACKEND: 'leveldb' }).backendAlias).toBeUndefined();
  });

  it('reads every variable', () => {
    const c = loadConfig({
      DB_BACKEND: 'couchdb',
      DB_HOST: 'couch.internal',
      DB_PORT: '6984',
      DB_NAME: 'bid_kpi_test',
      DB_USER: 'u',
      DB_PASS: 'p',
      HOST: '0.0.0.0',
      PORT: '8080',
      MODE: 'prod',
      DATA_DIR: '/var/lib/kpiggybank',
      MAX_BODY_BYTES: '2048',
      MAX_BATCH_BLOBS: '10',
      MAX_DEPTH: '8',
      BATCH_MAX_DOCS: '50',
      BATCH_CONCURRENCY: '2',
      STORE_TIMEOUT_MS: '1000',
      SHUTDOWN_TIMEOUT_MS: '500',
    });
    expect(c).toMatchObject({
      backend: 'couchdb',
      port: 8080,
      host: '0.0.0.0',
      mode: 'prod',
      logLevel: 'warn', // prod is quieter
      dbName: 'bid_kpi_test',
      dataDir: '/var/lib/kpiggybank',
      limits: { maxBodyBytes: 2048, maxBatchBlobs: 10, maxDepth: 8 },
      groupCommit: { maxItems: 50, concurrency: 2 },
      storeTimeoutMs: 1000,
      shutdownTimeoutMs: 500,
    });
    expect(c.couch).toEqual({ url: 'http://couch.internal:6984', username: 'u', password: 'p' });
  });

  it('lets COUCHDB_URL override host, port and credentials; without credentials it is anonymous', () => {
    expect(loadConfig({ COUCHDB_URL: 'https://admin:p%40ss@db.example:6984/', DB_USER: 'ignored' }).couch).toEqual({
      url: 'https://db.example:6984',
      username: 'admin',
      password: 'p@ss',
    });
    expect(loadConfig({ COUCHDB_URL: 'http://127.0.0.1:5984' }).couch).toMatchObject({ username: '', password: '' });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', MODE: '' })).toMatchObject({ port: 3000, mode: 'dev' });
  });

  it.each([
    ['PORT', 'abc', /PORT must be an integer port 0–65535.*"abc"/],
    ['PORT', '70000', /PORT must be an integer port/],
    ['DB_BACKEND', 'mysql', /DB_BACKEND must be one of leveldb, couchdb, memory, dummy.*"mysql"/],
    ['MODE', 'loud', /MODE must be dev or prod/],
    ['DB_NAME', 'Bad_Name', /DB_NAME must be a CouchDB database name/],
    ['MAX_BODY_BYTES', '0', /MAX_BODY_BYTES must be a positive integer/],
    ['LOG_LEVEL', 'chatty', /LOG_LEVEL must be one of/],
  ])('refuses %s=%s naming the variable and what it accepts', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', MODE: 'y' })).toThrow(/PORT must .*; MODE must/);
  });

  it('never repeats a secret value in an error or in the loggable description', () => {
    let message = '';
    try {
      loadConfig({ COUCHDB_URL: 'ftp://user:hunter2-secret@host' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/COUCHDB_URL must be an http\(s\) URL/);
    expect(message).not.toContain('hunter2');
    const described = JSON.stringify(describeConfig(loadConfig({ DB_PASS: 'hunter2-secret' })));
    expect(described).not.toContain('hunter2');
    expect(described).toContain('kpiggybank');
  });
});
