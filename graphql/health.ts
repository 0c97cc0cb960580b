import type { FastifyInstance } from 'fastify';

export interface HealthOptions {
  /** Resolves when the database answers; rejects (or times out) when it does not. */
  readonly checkDatabase: () => Promise<void>;
  /** True once shutdown has begun: /readyz turns red so a load balancer stops sending work here. */
  readonly draining?: () => boolean;
}

/**
 * `/healthz`: the process is alive. `/readyz`: it can serve — the database answers a query (a real
 * round trip through the pool, bounded at 2 s, so a database that is away turns it red within that)
 * and the process is not shutting down.
 */
export const healthRoutes = async (app: FastifyInstance, opts: HealthOptions) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (opts.draining?.()) return reply.code(503).send({ status: 'draining', database: 'not checked' });
    try {
      await Promise.race([
        opts.checkDatabase(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('database check timed out')), 2_000).unref()),
      ]);
      return { status: 'ready', database: 'ok' };
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', database: (err as Error).message });
    }
  });
};
