import { describe, expect, inject, it } from 'vitest';
import { crashScenario, report } from './support/scenarios.ts';

/** The full crash suite: six SIGKILLs of `govcase serve` at random moments under load. */
describe('crash without loss (full: six SIGKILLs)', () => {
  it('keeps every acknowledged command through six SIGKILLs and restarts', async () => {
    const r = await crashScenario({ databaseUrl: inject('databaseUrl'), kills: 6, minRunMs: 2_000, maxRunMs: 6_000, workers: 8 });
    report('crash-full', r.figures);
    expect(r.figures.acknowledged).toBeGreaterThan(0);
    expect(r.refused).toEqual([]);
    expect(r.store.lost).toEqual([]);
    expect(r.store.doubled).toEqual([]);
    expect(r.store.partial).toEqual([]);
    expect(r.store.brokenChains).toEqual([]);
    expect(r.caughtUp).toBe(true);
    expect(r.projections.differing).toEqual([]);
    expect(r.exit).toMatchObject({ code: 0 });
  });
});
