import { drainRoutes, type Routes } from 'kpiggybank-client/wire';

type DrainRoute = keyof ReturnType<typeof drainRoutes>;

/**
 * One drain's routes (the wire's drainRoutes) as Express patterns, `:id` standing for the id:
 * drainRoutes escapes the colon, hence decoded. Typed as the literal patterns, so that Express
 * types `req.params.id`. The drain routes and the API catalog use them.
 */
export const DRAIN_PATTERNS = Object.fromEntries(Object.entries(drainRoutes(':id')).map(([name, route]) => [name, decodeURIComponent(route)])) as {
  [K in DrainRoute]: `${typeof Routes.drains}/:id${K extends 'status' ? '' : `/${K}`}`;
};
