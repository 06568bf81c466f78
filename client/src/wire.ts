// The wire contract, shared by the server and the client so that the two cannot drift.
export * from './wire/blob.js';
export * from './wire/query.js';
export * from './wire/responses.js';
export * from './wire/errors.js';
export * from './wire/changes.js';
export * from './wire/drain.js';
// Not a schema, but shared the same way: the one retry-delay formula (dependency-free).
export * from './portable/backoff.js';
