import { describe, expect, inject, it } from 'vitest';
import { overloadScenario, report } from './support/scenarios.ts';

/** A real overload (a flood of introspection queries) past an event-loop-delay threshold of 50 ms. */
describe('overload (full): a flood past capacity is shed, health answers, service resumes', () => {
  it('sheds with 503 + Retry-After under a flood and serves again after it', async () => {
    const r = await overloadScenario({ databaseUrl: inject('databaseUrl'), floodMs: 15_000, concurrency: 64, maxEventLoopDelayMs: 50 });
    report('overload-flood', r.figures);
    expect(r.figures.shedWithRetryAfter).toBeGreaterThan(0);
    expect(Object.keys(r.figures.byStatus).filter((s) => s !== '200' && s !== '503')).toEqual([]);
    expect(r.figures.healthzDuringFlood['200']).toBeGreaterThan(0);
    expect(r.figures.recoveredAfterMs).not.toBeNull();
    expect(r.exit).toMatchObject({ code: 0 });
  });
});
