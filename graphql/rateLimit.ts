import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { createHash } from 'node:crypto';
import type { SharedRedis } from '../infrastructure/redis.ts';

/**
 * Rate limits per token (per address without one), shared through Redis when it is there and
 * counted in-process when it is not (or goes away): a limit may be looser for a moment, a command
 * never fails because of Redis.
 */
const LUA = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
return {current, ttl}`;

type Cb = (err: Error | null, res: { current: number; ttl: number } | null) => void;

const localCounter = () => {
  const windows = new Map<string, { count: number; resetAt: number }>();
  return (key: string, windowMs: number) => {
    const now = Date.now();
    let w = windows.get(key);
    if (!w || w.resetAt <= now) {
      if (windows.size > 50_000) windows.clear();
      w = { count: 0, resetAt: now + windowMs };
      windows.set(key, w);
    }
    w.count++;
    return { current: w.count, ttl: w.resetAt - now };
  };
};

const storeFor = (redis: SharedRedis | undefined) => {
  const local = localCounter();
  return class FallbackStore {
    private readonly prefix: string;
    // @fastify/rate-limit constructs the store with its options object, child() with our prefix: only a
    // string is a prefix (the options object made every key "[object Object]…", outside govcase's namespace)
    constructor(prefix: unknown = 'govcase:rl:') {
      this.prefix = typeof prefix === 'string' ? prefix : 'govcase:rl:';
    }
    incr(key: string, cb: Cb, timeWindow: number) {
      const k = this.prefix + key;
      if (!redis?.ready()) return cb(null, local(k, timeWindow));
      redis.client
        .eval(LUA, { keys: [k], arguments: [String(timeWindow)] })
        .then((r) => {
          const [current, ttl] = r as [number, number];
          cb(null, { current, ttl });
        })
        .catch(() => cb(null, local(k, timeWindow)));
    }
    child(routeOptions: { routeInfo: { method: string; url: string } }) {
      return new FallbackStore(`${this.prefix}${routeOptions.routeInfo.method}${routeOptions.routeInfo.url}:`);
    }
  };
};

const keyFor = (req: FastifyRequest): string => {
  const auth = req.headers.authorization;
  // the token itself (hashed), so a user with several tokens is limited per token, as the issue asks
  return auth ? `t:${createHash('sha256').update(auth).digest('base64url').slice(0, 22)}` : `ip:${req.ip}`;
};

export const rateLimitPlugin = fp(async (app: FastifyInstance, opts: { redis?: SharedRedis; max: number; windowMs: number }) => {
  await app.register(rateLimit, {
    global: true,
    max: opts.max,
    timeWindow: opts.windowMs,
    keyGenerator: keyFor,
    store: storeFor(opts.redis) as never,
    skipOnError: true,
    allowList: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics',
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      data: null,
      errors: [{ message: `rate limit exceeded: ${ctx.max} requests per ${ctx.after}; retry after ${Math.ceil(ctx.ttl / 1000)} s`, extensions: { code: 'RATE_LIMITED', retryAfterSeconds: Math.ceil(ctx.ttl / 1000) } }],
    }),
  });
}, { name: 'govcase-rate-limit' });
