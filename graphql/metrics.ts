import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Histogram, Registry, collectDefaultMetrics, Gauge } from 'prom-client';
import type { CaseStateCache } from '../application/caseCache.ts';
import type { ProjectionRunner } from '../projections/runner.ts';

/**
 * `/metrics` for Prometheus: request rate and latency, command outcomes by code, projection lag,
 * event-store append latency, plus the process defaults (memory, event-loop lag, GC).
 */
export interface Metrics {
  readonly registry: Registry;
  readonly commands: Counter<'command' | 'outcome'>;
  readonly appendSeconds: Histogram<'outcome'>;
}

/** The national exchange's outbox per target (projections/exchange/status.ts), read when /metrics is scraped. */
export type ExchangeStatusSource = () => Promise<readonly {
  readonly target: string; readonly pending: number; readonly retrying: number; readonly delivered: number; readonly dead: number;
  readonly oldestPendingAgeSeconds: number;
}[]>;

export const createMetrics = (runner?: ProjectionRunner, exchange?: ExchangeStatusSource, caseCache?: CaseStateCache): Metrics => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'govcase_' });
  const commands = new Counter({
    name: 'govcase_commands_total', help: 'Commands by mutation and outcome (ok or the error code)',
    labelNames: ['command', 'outcome'] as const, registers: [registry],
  });
  const appendSeconds = new Histogram({
    name: 'govcase_event_store_append_seconds', help: 'Event-store append latency',
    labelNames: ['outcome'] as const, buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry],
  });
  if (runner) {
    const lag = new Gauge({ name: 'govcase_projection_lag_events', help: 'Events in the log not yet projected', labelNames: ['projection'] as const, registers: [registry] });
    const lagMs = new Gauge({ name: 'govcase_projection_lag_seconds', help: 'Age of the oldest event not yet projected', labelNames: ['projection'] as const, registers: [registry] });
    const up = new Gauge({
      name: 'govcase_projection_running', help: '1 when this node runs (leads) the projection', labelNames: ['projection'] as const, registers: [registry],
      async collect() {
        const status = await runner.status().catch(() => []);
        for (const s of status) {
          lag.set({ projection: s.name }, s.lag);
          lagMs.set({ projection: s.name }, s.lagMs / 1000);
          this.set({ projection: s.name }, s.status === 'running' ? 1 : 0);
        }
      },
    });
    void up;
  }
  if (exchange) {
    // one status query per scrape, shared by both gauges (the registry collects them concurrently)
    let inflight: ReturnType<ExchangeStatusSource> | undefined;
    const load = () => (inflight ??= exchange().catch(() => []).finally(() => { setTimeout(() => { inflight = undefined; }, 0); }));
    const records = new Gauge({
      name: 'govcase_exchange_records', help: 'National exchange outbox records by target and status (pending, retrying, delivered, dead)',
      labelNames: ['target', 'status'] as const, registers: [registry],
      async collect() {
        for (const s of await load()) for (const status of ['pending', 'retrying', 'delivered', 'dead'] as const) this.set({ target: s.target, status }, s[status]);
      },
    });
    const oldest = new Gauge({
      name: 'govcase_exchange_oldest_pending_seconds', help: 'Age of the oldest record not yet delivered, per target',
      labelNames: ['target'] as const, registers: [registry],
      async collect() {
        for (const s of await load()) this.set({ target: s.target }, s.oldestPendingAgeSeconds);
      },
    });
    void records;
    void oldest;
  }
  if (caseCache) {
    const lookups = new Gauge({
      name: 'govcase_case_cache_lookups', help: 'Commands that found their case in the write side\'s memory (hit) or read its stream (miss), since start',
      labelNames: ['result'] as const, registers: [registry],
      collect() {
        this.set({ result: 'hit' }, caseCache.stats.hits);
        this.set({ result: 'miss' }, caseCache.stats.misses);
      },
    });
    const size = new Gauge({
      name: 'govcase_case_cache_entries', help: 'Cases whose state the write side remembers', registers: [registry],
      collect() { this.set(caseCache.stats.size()); },
    });
    void lookups;
    void size;
  }
  return { registry, commands, appendSeconds };
};

export const metricsPlugin = fp(async (app: FastifyInstance, opts: { metrics: Metrics }) => {
  const { registry } = opts.metrics;
  const requests = new Histogram({
    name: 'govcase_http_request_duration_seconds', help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const, buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}, { name: 'govcase-metrics' });
