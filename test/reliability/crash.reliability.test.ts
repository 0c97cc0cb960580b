import { describe, inject, it } from 'vitest';
import { crashScenario, report } from './support/scenarios.ts';
import { expectCrashSurvived } from './support/expectations.ts';

/** The full crash suite: six SIGKILLs of `govcase serve` at random moments under load. */
describe('crash without loss (full: six SIGKILLs)', () => {
  it('keeps every acknowledged command through six SIGKILLs and restarts', async () => {
    const r = await crashScenario({ databaseUrl: inject('databaseUrl'), kills: 6, minRunMs: 2_000, maxRunMs: 6_000, workers: 8 });
    report('crash-full', r.figures);
    expectCrashSurvived(r);
  });
});
