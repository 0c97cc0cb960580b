import { describe, expect, inject, it } from 'vitest';
import { fuzzScenario, report } from './support/scenarios.ts';

/**
 * 10,000 generated GraphQL requests: zero 5xx, the server stays up, and its heap
 * returns to the baseline afterwards.
 * The seed is fixed so a failure replays; FUZZ_SEED=<n> tries another.
 */
describe('fuzzing the GraphQL API (full: 10,000 requests)', () => {
  it('answers every generated request below 500 and stays up', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 20_261_125);
    const r = await fuzzScenario({ databaseUrl: inject('databaseUrl'), count: 10_000, seed, concurrency: 8, settleMs: 5_000 });
    report('fuzz-full', r.figures);
    expect(r.result.fiveXx).toEqual([]);
    expect(r.result.networkErrors.filter((e) => e.kind !== 'too-large')).toEqual([]);
    expect(r.alive).toBe(200);
    expect(r.figures.serverRestarted).toBe(false);
    // memory back to baseline: after a full collection (SIGUSR2, the server runs with --expose-gc) the
    // heap holds what it held before the requests, give or take the caches' fixed bounds
    expect(r.figures.heapSettledMb).not.toBeNull();
    expect(r.figures.heapSettledMb!).toBeLessThanOrEqual(r.figures.heapBaselineMb! + 32);
    expect(r.exit).toMatchObject({ code: 0 });
  });
});
