import type { App } from './app';

/** OpenAPI document at /openapi.json and Swagger UI at /docs, generated from the route schemas. */
export function registerOpenApi(_app: App): void {
  // Being written (issue 4, item 8).
}
