import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { getHeapStatistics } from 'node:v8';

/**
 * Load shedding: past capacity — the event loop lagging, the heap or the resident memory past a
 * threshold — a request is answered at once with HTTP 503, `Retry-After` and UNAVAILABLE, instead of
 * queueing and letting latency and memory grow without bound. `/healthz`, `/readyz` and `/metrics`
 * are never shed: an orchestrator must still see the process alive (and a loaded one is not dead).
 * Thresholds come from the environment (infrastructure/config.ts, UNDER_PRESSURE_*); 0 turns one off.
 */
export interface UnderPressureOptions {
  /** event-loop delay (ms) past which requests are shed; 0 = off */
  readonly maxEventLoopDelayMs: number;
  /** V8 heap used (MB); undefined = 90 % of the heap limit, 0 = off */
  readonly maxHeapUsedMb?: number | undefined;
  /** resident set size (MB); 0 = off */
  readonly maxRssMb: number;
  /** event-loop utilisation (0–1); 0 = off */
  readonly maxEventLoopUtilization: number;
  /** seconds a shed client is told to wait */
  readonly retryAfterSeconds: number;
}

const EXEMPT = new Set(['/healthz', '/readyz', '/metrics']);
const MB = 1_048_576;

const WHAT: Record<string, string> = {
  eventLoopDelay: 'the event loop is lagging',
  heapUsedBytes: 'the memory heap is nearly full',
  rssBytes: 'the resident memory is past its limit',
  eventLoopUtilization: 'the event loop is saturated',
};

export const underPressurePlugin = fp(async (app: FastifyInstance, opts: UnderPressureOptions) => {
  const heapMb = opts.maxHeapUsedMb ?? Math.floor((0.9 * getHeapStatistics().heap_size_limit) / MB);
  await app.register(underPressure, {
    maxEventLoopDelay: opts.maxEventLoopDelayMs,
    maxHeapUsedBytes: heapMb * MB,
    maxRssBytes: opts.maxRssMb * MB,
    maxEventLoopUtilization: opts.maxEventLoopUtilization,
    retryAfter: opts.retryAfterSeconds,
    pressureHandler: (req, reply, type) => {
      if (EXEMPT.has(req.url.split('?')[0] ?? '')) return undefined; // serve it
      reply.code(503).header('retry-after', String(opts.retryAfterSeconds));
      // a value returned here is what the plugin sends (its types say void; its code sends it)
      const body = {
        data: null,
        errors: [{
          message: `the server is overloaded (${WHAT[type] ?? type}); retry after ${opts.retryAfterSeconds} s`,
          extensions: { code: 'UNAVAILABLE', retryAfterSeconds: opts.retryAfterSeconds },
        }],
      };
      return body as unknown as void;
    },
  });
}, { name: 'govcase-under-pressure' });
