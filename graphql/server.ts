import Fastify, { type FastifyInstance } from 'fastify';
import { healthRoutes, type HealthOptions } from './health.ts';

export interface ServerOptions {
  readonly logLevel: string;
  readonly health: HealthOptions;
}

/** The HTTP surface. Each feature is an encapsulated plugin. */
export const buildServer = async (options: ServerOptions): Promise<FastifyInstance> => {
  const app = Fastify({
    logger: { level: options.logLevel },
    bodyLimit: 1_048_576,
    requestIdHeader: 'x-request-id',
  });
  await app.register(healthRoutes, options.health);
  return app;
};
