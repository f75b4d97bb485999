/** The live web page at `/` and the browser modules it loads (being built). */
import { Hono } from 'hono';

export function webRoutes(): Hono {
  const routes = new Hono();
  routes.get('/', (context) => context.html('<!doctype html><title>MoA</title><p>The live view is being built.</p>'));
  return routes;
}
