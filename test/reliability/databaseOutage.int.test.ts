import { describe, inject, it } from 'vitest';
import { databaseOutageScenario, report } from './support/scenarios.ts';
import { expectDatabaseOutageSurvived } from './support/expectations.ts';

/**
 * PostgreSQL cut for 6 s under load (10 s in databaseOutage.reliability.test.ts) (through a TCP proxy the test controls): requests fail fast
 * with UNAVAILABLE, /readyz goes red, and the same server process recovers by itself when the
 * database returns, with every acknowledged command kept and the projections equal to a rebuild.
 */
describe('database outage', () => {
  it('fails fast with UNAVAILABLE, goes unready, and recovers by itself with nothing lost', async () => {
    const r = await databaseOutageScenario({ databaseUrl: inject('databaseUrl'), outageMs: 6_000, workers: 4 });
    report('database-outage', r.figures);
    expectDatabaseOutageSurvived(r);
  }, 240_000);
});
