import type { FastifyInstance } from 'fastify';

export interface HealthOptions {
  /** Resolves when the database answers; rejects (or times out) when it does not. */
  readonly checkDatabase: () => Promise<void>;
}

/** `/healthz`: the process is alive. `/readyz`: it can serve (the database answers). */
export const healthRoutes = async (app: FastifyInstance, opts: HealthOptions) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
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
