import Fastify, { type FastifyInstance } from 'fastify';
import type { ApiDeps } from './context.ts';
import { httpErrorHandler } from './errors.ts';
import { healthRoutes, type HealthOptions } from './health.ts';
import { graphqlPlugin } from './plugin.ts';

export interface ServerOptions {
  readonly logLevel: string;
  readonly health: HealthOptions;
  /** The GraphQL API; without it only the health routes are served. */
  readonly api?: ApiDeps;
  readonly graphiql?: boolean;
}

/** The HTTP surface. Each feature is an encapsulated plugin. */
export const buildServer = async (options: ServerOptions): Promise<FastifyInstance> => {
  const app = Fastify({
    logger: { level: options.logLevel },
    bodyLimit: 1_048_576,
    requestIdHeader: 'x-request-id',
  });
  app.setErrorHandler(httpErrorHandler);
  await app.register(healthRoutes, options.health);
  if (options.api) await app.register(graphqlPlugin, { api: options.api, graphiql: options.graphiql ?? false });
  return app;
};
