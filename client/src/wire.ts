// The wire contract, shared by the server and the client so that the two cannot drift.
export * from './wire/blob.js';
export * from './wire/query.js';
export * from './wire/responses.js';
export * from './wire/errors.js';
export * from './wire/changes.js';
export * from './wire/drain.js';
export * from './wire/event-schema.js';
// Not schemas, but shared the same way (dependency-free, so the page loads them as they are):
// the one retry-delay formula and the route table.
export * from './portable/backoff.js';
export * from './portable/routes.js';
