import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';
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

/**
 * Nothing the page loads may come from another host. connect-src names ws: and wss: besides
 * 'self' because older browsers do not count a same-host WebSocket as 'self'; only our own script
 * runs (script-src 'self'), so that opens nothing to anyone else's code.
 */
export const HOME_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self' ws: wss:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * `GET /`: the home page for browsers; the JSON list of routes (as before the page existed) for
 * clients that prefer `application/json` or accept anything (`*∕*`, curl's default).
 * `/assets/*`: the page's script and stylesheet.
 */
export function homeRouter(backend: string): Router {
  const router = express.Router();
  const page = renderHomePage({ backend, routes: API_ROUTES });

  router.get('/', (req, res) => {
    res.vary('Accept');
    if (req.accepts(['json', 'html']) === 'html') {
      res.setHeader('Content-Security-Policy', HOME_CSP);
      res.type('html').send(page);
      return;
    }
    res.json({ service: 'kpiggybank', backend, api: API_ROUTES.map((r) => r.route) });
  });

  const assets = { index: false, fallthrough: true, setHeaders: (res: { setHeader(name: string, value: string): unknown }) => res.setHeader('X-Content-Type-Options', 'nosniff') };
  router.use('/assets', express.static(WEB_ASSETS.scripts, assets), express.static(WEB_ASSETS.styles, assets));
  return router;
}
