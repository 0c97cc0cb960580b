import { describe, expect, inject, it } from 'vitest';
import { databaseOutageScenario, report } from './support/scenarios.ts';

/**
 * PostgreSQL cut for 6 s under load (10 s in databaseOutage.reliability.test.ts) (through a TCP proxy the test controls): requests fail fast
 * with UNAVAILABLE, /readyz goes red, and the same server process recovers by itself when the
 * database returns, with every acknowledged command kept and the projections equal to a rebuild.
 */
describe('database outage', () => {
  it('fails fast with UNAVAILABLE, goes unready, and recovers by itself with nothing lost', async () => {
    const r = await databaseOutageScenario({ databaseUrl: inject('databaseUrl'), outageMs: 6_000, workers: 4 });
    report('database-outage', r.figures);
    const codes = Object.keys(r.figures.duringOutage);
    expect(codes.length).toBeGreaterThan(0);
    expect(codes.filter((c) => c !== 'UNAVAILABLE')).toEqual([]);
    expect(r.figures.readyzRedAfterMs).not.toBeNull();
    expect(r.figures.readyzGreenAfterMs).not.toBeNull();
    expect(r.figures.recoveryMs).not.toBeNull();
    expect(r.figures.serverRestarted).toBe(false);
    expect(r.refused).toEqual([]);
    expect(r.store.lost).toEqual([]);
    expect(r.store.partial).toEqual([]);
    expect(r.store.brokenChains).toEqual([]);
    expect(r.projections.differing).toEqual([]);
    expect(r.exit).toMatchObject({ code: 0 });
  }, 240_000);
});
