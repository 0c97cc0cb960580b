import Fastify, { type FastifyInstance } from 'fastify';
import type { SharedRedis } from '../infrastructure/redis.ts';
import type { ApiDeps } from './context.ts';
import { httpErrorHandler } from './errors.ts';
import { healthRoutes, type HealthOptions } from './health.ts';
import { metricsPlugin, type Metrics } from './metrics.ts';
import { graphqlPlugin } from './plugin.ts';
import { rateLimitPlugin } from './rateLimit.ts';
import { underPressurePlugin, type UnderPressureOptions } from './underPressure.ts';

export interface ServerOptions {
  readonly logLevel: string;
  readonly health: HealthOptions;
  /** The GraphQL API; without it only the health routes are served. */
  readonly api?: ApiDeps;
  readonly graphiql?: boolean;
  readonly metrics?: Metrics;
  /** Requests per window per token (per address without one); 0 turns the limit off. */
  readonly rateLimit?: { readonly max: number; readonly windowMs: number; readonly redis?: SharedRedis | undefined };
  /** Load shedding past capacity (503 + Retry-After); omitted = none. */
  readonly underPressure?: UnderPressureOptions;
}

/** The HTTP surface. Each feature is an encapsulated plugin; shared ones (metrics, rate limit) are fastify-plugin wrapped. */
export const buildServer = async (options: ServerOptions): Promise<FastifyInstance> => {
  const app = Fastify({
    logger: {
      level: options.logLevel,
      // a GET /graphql carries the query and variables (personal data) in its URL: logs keep the path only
      serializers: {
        req: (req) => ({ method: req.method, url: req.url.split('?')[0], remoteAddress: req.ip, requestId: req.id }),
      },
    },
    bodyLimit: 1_048_576,
    requestIdHeader: 'x-request-id',
    trustProxy: false,
    // while draining (SIGTERM), a request that still arrives on an open connection is served, with
    // `Connection: close`, rather than refused with a bare 503: new connections are already refused
    return503OnClosing: false,
  });
  app.setErrorHandler(httpErrorHandler);
  if (options.underPressure) await app.register(underPressurePlugin, options.underPressure);
  if (options.metrics) await app.register(metricsPlugin, { metrics: options.metrics });
  if (options.rateLimit && options.rateLimit.max > 0)
    await app.register(rateLimitPlugin, { max: options.rateLimit.max, windowMs: options.rateLimit.windowMs, ...(options.rateLimit.redis ? { redis: options.rateLimit.redis } : {}) });
  await app.register(healthRoutes, options.health);
  if (options.api) await app.register(graphqlPlugin, { api: options.api, graphiql: options.graphiql ?? false, ...(options.metrics ? { metrics: options.metrics } : {}) });
  return app;
};
