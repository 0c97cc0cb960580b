import { describe, expect, inject, it } from 'vitest';
import { redisOutageScenario, report } from './support/scenarios.ts';

/**
 * Redis cut under load (through a TCP proxy): commands keep succeeding, the rate limit keeps
 * limiting in-process, and the shared counters come back when Redis does.
 */
describe('Redis outage', () => {
  const redisUrl = inject('redisUrl');
  it.skipIf(!redisUrl)('keeps serving commands, limits in-process, and reconnects', async () => {
    const r = await redisOutageScenario({ databaseUrl: inject('databaseUrl'), redisUrl: redisUrl!, outageMs: 6_000, workers: 3 });
    report('redis-outage', r.figures);
    expect(r.figures.ackedDuringOutage).toBeGreaterThan(0);
    expect(Object.keys(r.figures.failuresDuringOutage).filter((c) => c !== 'RATE_LIMITED')).toEqual([]);
    expect(r.figures.burstDuringOutage['429']).toBeGreaterThan(0);
    expect(r.figures.burstDuringOutage['200']).toBeGreaterThan(0);
    expect(r.figures.recoveryMs).not.toBeNull();
    expect(r.figures.countersBackInRedis).toBe(true);
    expect(r.refused).toEqual([]);
    expect(r.store.lost).toEqual([]);
    expect(r.store.partial).toEqual([]);
    expect(r.exit).toMatchObject({ code: 0 });
  }, 180_000);
});
