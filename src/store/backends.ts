/**
 * The backends that keep blobs, one folder each in src/store/: the one list that the settings
 * schema, the tests (each runs on every one) and the benchmarks take their names from.
 */
export const STORE_BACKENDS = ['memory', 'leveldb', 'couchdb'] as const;
export type StoreBackend = (typeof STORE_BACKENDS)[number];

/** Every backend DB_BACKEND names: those, and `dummy` (stores nothing, serves canned blobs). */
export const BACKENDS = [...STORE_BACKENDS, 'dummy'] as const;
export type Backend = (typeof BACKENDS)[number];
