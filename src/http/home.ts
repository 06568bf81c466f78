import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';
import { Routes } from 'kpiggybank-client/wire';
import { API_ROUTES } from './api-catalog.js';
import { renderHomePage } from './home-page.js';

/**
 * The project's root: this file runs as `src/http/home.ts` (tsx, vitest) or `dist/http/home.js`
 * (npm start), two levels below it either way.
 */
const ROOT = new URL('../../', import.meta.url);

/** Where the page's script (compiled by `npm run build` from `web/src`) and its stylesheet live. */
export const WEB_ASSETS = {
  scripts: fileURLToPath(new URL('dist/web/', ROOT)),
  styles: fileURLToPath(new URL('web/static/', ROOT)),
};

/** A Host header fit to stand in a CSP source list: a name or address and a port, nothing else. */
const PLAIN_HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * Nothing the page loads may come from another host, nor may it connect anywhere else. connect-src
 * names its own WebSocket origins besides 'self' because older browsers do not count a same-host
 * WebSocket as 'self' (a bare `ws:` would let it reach any host).
 */
function homeCsp(host: string | undefined): string {
  const own = host !== undefined && PLAIN_HOST.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src 'self'${own}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * `GET /`: the home page for browsers; the JSON list of routes (as before the page existed) for
 * clients that prefer `application/json` or accept anything (`*∕*`, curl's default).
 * `/assets/*`: the page's script and stylesheet.
 */
export function homeRouter(backend: string): Router {
  const router = express.Router();
  const page = renderHomePage({ backend, routes: API_ROUTES });

  router.get(Routes.home, (req, res) => {
    res.vary('Accept');
    if (req.accepts(['json', 'html']) === 'html') {
      res.setHeader('Content-Security-Policy', homeCsp(req.headers.host));
      res.type('html').send(page);
      return;
    }
    res.json({ service: 'kpiggybank', backend, api: API_ROUTES.map((r) => r.route) });
  });

  const assets = { index: false, fallthrough: true };
  router.use(Routes.assets, express.static(WEB_ASSETS.scripts, assets), express.static(WEB_ASSETS.styles, assets));
  return router;
}
