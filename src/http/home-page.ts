import { Routes } from 'kpiggybank-client/wire';
import type { ApiRoute } from './api-catalog.js';

/** Escapes text for HTML element content and quoted attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function apiRow({ route, does }: ApiRoute): string {
  const space = route.indexOf(' ');
  return `<tr><td>${escapeHtml(route.slice(0, space))}</td><td><code>${escapeHtml(route.slice(space + 1))}</code></td><td>${escapeHtml(does)}</td></tr>`;
}

const CLIENT_EXAMPLE = `KPIGGYBANK=http://127.0.0.1:3000   # this service's address
# store a blob (timestamp: unix seconds or milliseconds)
curl -X POST $KPIGGYBANK${Routes.blobs} -H 'content-type: application/json' \\
     -d '{"timestamp": 1338000000, "event_stream": [["screen.rp_info", 0], ["signin", 4200]]}'
# count them, read a range
curl $KPIGGYBANK${Routes.count}
curl "$KPIGGYBANK${Routes.blobs}?start=1338000000&end=1338003600"

// the typed client, in Node.js or a browser: kpiggybank-client, in this repository's client/
// (not on the npm registry). Here it is an npm workspace; elsewhere: npm run build here, then
//   cd client && npm pack    and, in your project,   npm install ./kpiggybank-client-0.1.0.tgz
// or npm install <path-to-this-repository>/client   (client/README.md says more)
import { KpiggybankClient } from 'kpiggybank-client';
const kpi = new KpiggybankClient('http://127.0.0.1:3000');
await kpi.save({ _id: 'signin-42', timestamp: Date.now(), lang: 'en-US' });
// every change once, resuming by itself after a lost connection
for await (const change of kpi.changes({ since: 'now' })) console.log(change.seq, change.doc);`;

/**
 * The home page as the server renders it: the API table and the client example are plain HTML,
 * readable without JavaScript; the live parts (count, rate, chart, feed, schema) are filled in by
 * `/assets/home.js`, which never injects blob content as HTML.
 */
export function renderHomePage({ backend, routes }: { backend: string; routes: readonly ApiRoute[] }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kpiggybank</title>
<link rel="stylesheet" href="${Routes.assets}/home.css">
<link rel="icon" href="${Routes.assets}/favicon.svg" type="image/svg+xml">
<script type="module" src="${Routes.assets}/home.js"></script>
</head>
<body>
<header>
  <h1>kpiggybank</h1>
  <p>A store for Key Performance Indicator blobs: write-many, read-once. Backend: <code>${escapeHtml(backend)}</code>.</p>
</header>
<main>
<section aria-labelledby="glance-title" class="glance">
  <h2 id="glance-title">At a glance</h2>
  <dl class="stats">
    <div><dt>Blobs stored</dt><dd id="count">–</dd></div>
    <div><dt>Ingest rate</dt><dd id="rate">–</dd></div>
    <div><dt>Live feed</dt><dd><span id="status" role="status" aria-live="polite" data-state="idle">needs JavaScript</span></dd></div>
    <div><dt>Service</dt><dd class="service"><span id="ready" data-state="unknown">–</span> <a href="${Routes.metrics}">metrics</a></dd></div>
    <div><dt>Schema refusals</dt><dd id="rejected" title="Blobs refused for breaking the event schema since the service started">–</dd></div>
  </dl>
  <form id="token-form" class="token-form" hidden>
    <p>The change feed and the reads need the read token.</p>
    <label for="token-input">Read token</label>
    <input id="token-input" name="token" type="password" autocomplete="off" required>
    <button type="submit">Connect</button>
  </form>
  <figure class="chart">
    <svg id="chart" role="img" aria-labelledby="chart-caption" viewBox="0 0 640 140"></svg>
    <figcaption id="chart-caption">Blobs per minute over the last hour, by their timestamp</figcaption>
  </figure>
</section>
<section aria-labelledby="feed-title" class="feed">
  <h2 id="feed-title">Events live feed</h2>
  <div class="feed-controls">
    <label for="feed-limit">Keep the newest</label>
    <input id="feed-limit" type="number" min="1" max="1000" step="1" value="50" inputmode="numeric">
    <button id="feed-pause" type="button" aria-pressed="false">Pause</button>
    <input id="feed-filter" type="search" placeholder="Filter the rows" aria-label="Filter the loaded rows by their text" autocomplete="off">
    <span class="hint">The list holds still while the pointer or the keyboard focus is on it.</span>
  </div>
  <div class="feed-head" aria-hidden="true"><span>date</span><span>user agent</span><span>lang</span><span>account</span><span>emails</span><span>outcome</span><span>duration</span><span></span></div>
  <div id="feed-box" class="feed-box" tabindex="0" aria-label="Events live feed, scrollable">
    <p id="feed-empty" class="feed-empty" role="status" hidden></p>
    <ol id="feed" class="feed-list" aria-label="Newest blobs first"></ol>
  </div>
  <noscript><p>The live feed needs JavaScript; the API below does not.</p></noscript>
</section>
<section aria-labelledby="schema-title" class="schema">
  <h2 id="schema-title">Event schema</h2>
  <p id="schema-status" data-state="unknown">The declared event types are read with JavaScript, from <code>GET ${Routes.schema}</code>.</p>
  <div id="schema-types" class="schema-types"></div>
</section>
<dialog id="blob-view" aria-labelledby="blob-view-title">
  <h2 id="blob-view-title">Blob <code id="blob-view-id"></code></h2>
  <pre id="blob-view-json" tabindex="0"></pre>
  <table id="blob-view-events" class="events">
    <caption>event_stream</caption>
    <thead><tr><th scope="col">name</th><th scope="col">offset (ms)</th></tr></thead>
    <tbody></tbody>
  </table>
  <textarea id="blob-view-text" class="blob-text" readonly hidden aria-label="The blob's JSON, selected for copying"></textarea>
  <div class="dialog-actions">
    <button id="blob-view-copy" type="button">Copy JSON</button>
    <span id="blob-view-copied" role="status"></span>
    <form method="dialog"><button type="submit">Close</button></form>
  </div>
</dialog>
<section aria-labelledby="api-title" class="api">
  <h2 id="api-title">HTTP API</h2>
  <table>
    <thead><tr><th scope="col">method</th><th scope="col">path</th><th scope="col">does</th></tr></thead>
    <tbody>
${routes.map(apiRow).join('\n')}
    </tbody>
  </table>
  <p>With a read token configured, reads and the feed need <code>Authorization: Bearer &lt;token&gt;</code>
  (or <code>?token=</code> on the WebSocket). <code>GET /</code> with <code>Accept: application/json</code> lists these routes as JSON.</p>
  <h2 id="example-title">Client example</h2>
  <pre aria-labelledby="example-title"><code>${escapeHtml(CLIENT_EXAMPLE)}</code></pre>
</section>
</main>
</body>
</html>
`;
}
