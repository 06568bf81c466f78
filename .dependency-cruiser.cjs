// The dependency rules of docs/architecture.md, checked by `npm run depcheck`.
// Dependencies point inward: composition root (src/*.ts) -> http/ -> feed/, drain/, ingest/
// -> access/, observability/ -> store/ (the Store interface) <- store/<backend>/.
// Parser: swc, because dependency-cruiser 17 cannot use TypeScript 7's package (no compiler
// API); swc does not tell `import type` apart, so a type-only import counts like any other.

const LAYERS_ABOVE_STORE = '^src/(http|feed|drain|ingest|access|observability|cli|loadtest|export)/';
const ROOT_FILE = '^src/[^/]+\\.ts$';
// The backends' names: a leaf module the CLI and the load test may read although they are clients.
const BACKEND_NAMES = '^src/store/backends\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means two modules are one module; split out what both need, inward.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'store-imports-nothing-above-it',
      severity: 'error',
      comment:
        'src/store/ (the Store interface and its backends) knows nothing of HTTP, the feed, the drain, ' +
        'ingest, tokens, metrics, the CLI or the composition root. Only create-store.ts may read the ' +
        'settings type (src/config.ts, a leaf module).',
      from: { path: '^src/store/' },
      to: {
        path: [LAYERS_ABOVE_STORE, ROOT_FILE],
        pathNot: '^src/config\\.ts$',
      },
    },
    {
      name: 'store-config-only-in-create-store',
      severity: 'error',
      comment: 'Backends get their settings as constructor arguments from create-store.ts, not from src/config.ts.',
      from: { path: '^src/store/', pathNot: '^src/store/create-store\\.ts$' },
      to: { path: '^src/config\\.ts$' },
    },
    {
      name: 'backend-imports-no-other-backend',
      severity: 'error',
      comment: "A backend folder (src/store/<backend>/) uses only itself and src/store/'s shared files.",
      from: { path: '^src/store/([^/]+)/' },
      to: { path: '^src/store/[^/]+/', pathNot: '^src/store/$1/' },
    },
    {
      name: 'only-create-store-imports-a-backend',
      severity: 'error',
      comment:
        'Everything else talks to the Store interface (src/store/store.ts); create-store.ts alone picks a backend. ' +
        "config.ts reads the couchdb backend's connection (its type, store/couchdb/connection.ts) from the environment.",
      from: { path: '^src/', pathNot: ['^src/store/create-store\\.ts$', '^src/store/([^/]+)/'] },
      to: { path: '^src/store/[^/]+/', pathNot: ['^src/store/couchdb/connection\\.ts$'] },
    },
    {
      name: 'domain-imports-no-http',
      severity: 'error',
      comment: 'ingest/, feed/, drain/, access/, observability/ throw domain errors and export plain functions; ' + 'src/http/ maps them to HTTP (src/http/errors.ts).',
      from: { path: '^src/(ingest|feed|drain|access|observability)/' },
      to: { path: '^src/http/' },
    },
    {
      name: 'domain-imports-no-transport-or-tools',
      severity: 'error',
      comment: 'Inner layers do not reach sideways into feed/drain/cli/loadtest or up into the composition root.',
      from: { path: '^src/(ingest|access|observability)/' },
      to: { path: ['^src/(feed|drain|cli|loadtest|export)/', ROOT_FILE] },
    },
    {
      name: 'formats-imports-nothing-of-the-service',
      severity: 'error',
      comment: 'src/formats/ (CSV cell encoding) is shared by the drain and the exporter, a client of the service: it imports no other src/ folder or root file.',
      from: { path: '^src/formats/' },
      to: { path: '^src/', pathNot: '^src/formats/' },
    },
    {
      name: 'schema-imports-only-formats',
      severity: 'error',
      comment:
        'src/schema/ (the event schema: its file and its compiled checker) is read by ingest/ and by the CLI and the exporter, clients of the service: it imports only src/formats/.',
      from: { path: '^src/schema/' },
      to: { path: '^src/', pathNot: '^src/(schema|formats)/' },
    },
    {
      name: 'access-and-observability-are-leaves',
      severity: 'error',
      comment: 'Tokens and metrics sit just above the store: they import neither ingest/ nor each other.',
      from: { path: '^src/(access|observability)/' },
      to: { path: '^src/(ingest|access|observability)/', pathNot: '^src/$1/' },
    },
    {
      name: 'feed-and-drain-independent',
      severity: 'error',
      comment: 'The feed and the drain are siblings; what they share lives in store/ or observability/.',
      from: { path: '^src/(feed|drain)/' },
      to: { path: ['^src/(feed|drain|cli|loadtest|export)/', ROOT_FILE], pathNot: '^src/$1/' },
    },
    {
      name: 'http-imports-no-root-or-tools',
      severity: 'error',
      comment: 'src/http/ is wired by the composition root, never the other way; it does not use cli/ or loadtest/.',
      from: { path: '^src/http/' },
      to: { path: ['^src/(cli|loadtest|export)/', ROOT_FILE] },
    },
    {
      name: 'service-imports-no-cli-or-loadtest',
      severity: 'error',
      comment: 'The service (composition root and layers) does not depend on the CLI or the load test.',
      from: { path: ROOT_FILE },
      to: { path: '^src/(cli|loadtest|export)/' },
    },
    {
      name: 'one-composition-root',
      severity: 'error',
      comment:
        'service.ts (createService) is the one wiring of the service: in src/, only server.ts (the process) imports it, ' +
        'and only service.ts imports app.ts. The tests build it through service.ts too (test/support/app.ts).',
      from: { path: '^src/', pathNot: '^src/server\\.ts$' },
      to: { path: '^src/service\\.ts$' },
    },
    {
      name: 'app-wired-by-the-service-only',
      severity: 'error',
      comment: 'The Express app is wired to its parts in one place, createService (src/service.ts).',
      from: { path: '^src/', pathNot: '^src/service\\.ts$' },
      to: { path: '^src/app\\.ts$' },
    },
    {
      name: 'process-files-for-the-process',
      severity: 'error',
      comment:
        'heap-growth.ts, startup-failure.ts and fd-limit.ts are the process around the service: server.ts uses them ' +
        '(config.ts reads the open-file limit for its default connection cap, the export command bounds its own heap); the service and its layers do not.',
      from: { path: '^src/', pathNot: '^src/(server|config|cli/export-command)\\.ts$' },
      to: { path: '^src/(heap-growth|startup-failure|fd-limit)\\.ts$' },
    },
    {
      name: 'backend-names-import-nothing',
      severity: 'error',
      comment:
        'src/store/backends.ts is the one list of backend names, read by the settings, the CLI and the load test: it stays a leaf, so reading it loads nothing of the service.',
      from: { path: BACKEND_NAMES },
      to: {},
    },
    {
      name: 'cli-imports-no-service-internals',
      severity: 'error',
      comment:
        'The CLI talks to a running service over HTTP (through kpiggybank-client), not to its modules. ' +
        "It may read the backends' names (src/store/backends.ts, a list that imports nothing) for --backend, " +
        'and the export command bounds its own heap as the server does (src/heap-growth.ts, a process file).',
      from: { path: '^src/cli/' },
      to: { path: ['^src/(http|feed|drain|ingest|access|observability|store)/', ROOT_FILE], pathNot: [BACKEND_NAMES, '^src/heap-growth\\.ts$'] },
    },
    {
      name: 'loadtest-imports-no-service-internals',
      severity: 'error',
      comment:
        'The load test drives the built service as a process, over HTTP; it does not use the CLI either. ' +
        'It names the backend it starts (DB_BACKEND) from the one list, src/store/backends.ts, which imports nothing.',
      from: { path: '^src/loadtest/' },
      to: { path: ['^src/(http|feed|drain|ingest|access|observability|store|cli|export)/', ROOT_FILE], pathNot: BACKEND_NAMES },
    },
    {
      name: 'export-imports-no-service-internals',
      severity: 'error',
      comment:
        'The exporter reads a running service through its change feed (kpiggybank-client), from any machine and over any backend; it imports none of the service, the CLI or the load test.',
      from: { path: '^src/export/' },
      to: { path: ['^src/(http|feed|drain|ingest|access|observability|store|cli|loadtest)/', ROOT_FILE] },
    },
    {
      name: 'export-destination-imports-no-other-destination',
      severity: 'error',
      comment: "A destination folder (src/export/<destination>/) uses only itself and src/export/'s shared files; only open-destination.ts picks one.",
      from: { path: '^src/export/([^/]+)/' },
      to: { path: '^src/export/[^/]+/', pathNot: '^src/export/$1/' },
    },
    {
      name: 'only-open-destination-imports-a-destination',
      severity: 'error',
      comment: 'The pipeline holds a Destination; which one is decided once, in src/export/open-destination.ts.',
      from: { path: '^src/export/[^/]+\\.ts$', pathNot: '^src/export/open-destination\\.ts$' },
      to: { path: '^src/export/[^/]+/' },
    },
    {
      name: 'src-imports-no-test-or-bench',
      severity: 'error',
      comment: 'Test and benchmark machinery lives outside src/ and is never shipped.',
      from: { path: '^src/' },
      to: { path: '^(test|bench|harness)/' },
    },
    {
      name: 'harness-imports-no-test-or-bench',
      severity: 'error',
      comment:
        "harness/ (PouchDB Server, the checkout's loadtest wrapper, test and bench helpers) is what tests and benchmarks " +
        "share: both import it, never each other; it uses src/loadtest's process starter, and no test/ or bench/ file.",
      from: { path: '^harness/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'test-and-bench-apart',
      severity: 'error',
      comment:
        'Tests and benchmarks share what they both need through harness/, not by importing each other. ' +
        "Only a test of a benchmark's own code (test/bench-*.test.ts) imports bench/.",
      from: { path: '^(test|bench)/', pathNot: '^test/bench-[^/]+\\.test\\.ts$' },
      to: { path: '^(test|bench)/', pathNot: '^$1/' },
    },
    {
      name: 'src-imports-no-devdependency',
      severity: 'error',
      comment:
        'src/ must run after `npm install --omit=dev`. (A devDependency resolved at run time, like ' +
        "harness/pouchdb-server.ts's createRequire('pouchdb-server/...'), is not seen by this check: keep such code in harness/.)",
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'no-undeclared-package',
      severity: 'error',
      comment: 'Every package imported is declared in package.json (client/ and web/ rely on their own).',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve is a typo or a missing file.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'client-and-web-import-no-src',
      severity: 'error',
      comment: 'client/ is its own package and web/ the page; both see the service only through the wire.',
      from: { path: '^(client|web)/' },
      to: { path: '^src/' },
    },
  ],
  options: {
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: ['node_modules', '^client/dist/'] },
    exclude: { path: ['(^|/)dist/', '\\.d\\.ts$'] },
    // kpiggybank-client's exports map: resolve its subpaths (./wire, ./undici) like Node and tsc do.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
