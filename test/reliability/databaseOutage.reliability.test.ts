import { describe, inject, it } from 'vitest';
import { databaseOutageScenario, report } from './support/scenarios.ts';
import { expectDatabaseOutageSurvived } from './support/expectations.ts';

/**
 * The full database outage: PostgreSQL cut for 10 s under 8 writers (through a TCP proxy the test controls): requests fail fast
 * with UNAVAILABLE, /readyz goes red, and the same server process recovers by itself when the
 * database returns, with every acknowledged command kept and the projections equal to a rebuild.
 */
describe('database outage (full: 10 s, 8 writers)', () => {
  it('fails fast with UNAVAILABLE, goes unready, and recovers by itself with nothing lost', async () => {
    const r = await databaseOutageScenario({ databaseUrl: inject('databaseUrl'), outageMs: 10_000, workers: 8 });
    report('database-outage-full', r.figures);
    expectDatabaseOutageSurvived(r);
  });
});
