import { describe, inject, it } from 'vitest';
import { redisOutageScenario, report } from './support/scenarios.ts';
import { expectRedisOutageSurvived } from './support/expectations.ts';

/**
 * Redis cut under load (through a TCP proxy): commands keep succeeding, the rate limit keeps
 * limiting in-process, and the shared counters come back when Redis does.
 */
describe('Redis outage', () => {
  const redisUrl = inject('redisUrl');
  it.skipIf(!redisUrl)('keeps serving commands, limits in-process, and reconnects', async () => {
    const r = await redisOutageScenario({ databaseUrl: inject('databaseUrl'), redisUrl: redisUrl!, outageMs: 6_000, workers: 3 });
    report('redis-outage', r.figures);
    expectRedisOutageSurvived(r);
  }, 180_000);
});
