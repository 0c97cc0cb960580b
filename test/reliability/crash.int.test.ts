import { describe, inject, it } from 'vitest';
import { crashScenario, report } from './support/scenarios.ts';
import { expectCrashSurvived } from './support/expectations.ts';

/**
 * The short version of the crash suite (the full one: crash.reliability.test.ts, `npm run
 * test:reliability`): one SIGKILL of `govcase serve` under load, a restart, and then every
 * acknowledged command is in the store exactly once, nothing is half-written, the hash chains
 * verify and every projection equals a rebuild from zero.
 */
describe('crash without loss (short: one SIGKILL)', () => {
  it('keeps every acknowledged command through a SIGKILL and a restart', async () => {
    const r = await crashScenario({ databaseUrl: inject('databaseUrl'), kills: 1, minRunMs: 1_500, maxRunMs: 3_000, workers: 4 });
    report('crash-short', r.figures);
    expectCrashSurvived(r);
  }, 180_000);
});
