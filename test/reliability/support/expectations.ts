import { expect } from 'vitest';
import type { crashScenario, databaseOutageScenario, redisOutageScenario } from './scenarios.ts';

/** What the short and the full runs of each fault assert: one definition, so the two never drift apart. */

export const expectDatabaseOutageSurvived = (r: Awaited<ReturnType<typeof databaseOutageScenario>>): void => {
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
};

export const expectRedisOutageSurvived = (r: Awaited<ReturnType<typeof redisOutageScenario>>): void => {
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
};

export const expectCrashSurvived = (r: Awaited<ReturnType<typeof crashScenario>>): void => {
  expect(r.figures.acknowledged).toBeGreaterThan(0);
  expect(r.refused).toEqual([]);
  expect(r.store.lost).toEqual([]);
  expect(r.store.doubled).toEqual([]);
  expect(r.store.partial).toEqual([]);
  expect(r.store.brokenChains).toEqual([]);
  expect(r.caughtUp).toBe(true);
  expect(r.projections.differing).toEqual([]);
  expect(r.exit).toMatchObject({ code: 0 });
};
