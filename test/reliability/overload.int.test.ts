import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTokens, post, type Tokens } from './support/load.ts';
import { createServerProcess, RELIABILITY_JWT_SECRET, type ServerProcess } from './support/serverProcess.ts';
import { report, sleep } from './support/scenarios.ts';
import { freshSchema } from './support/verify.ts';

/**
 * Load shedding is wired into `govcase serve`: with a threshold forced below what the process uses
 * (UNDER_PRESSURE_MAX_HEAP_MB=1), every API request is shed with 503, Retry-After and UNAVAILABLE,
 * while /healthz, /readyz and /metrics still answer. (The full suite, overload.reliability.test.ts,
 * drives a real overload past an event-loop-delay threshold.)
 */
describe('overload: 503 + Retry-After past capacity', () => {
  const databaseUrl = inject('databaseUrl');
  let schema: Awaited<ReturnType<typeof freshSchema>>;
  let server: ServerProcess;
  let tokens: Tokens;

  beforeAll(async () => {
    schema = await freshSchema(databaseUrl, 'pressure');
    server = createServerProcess({ databaseUrl, schema: schema.schema, env: { UNDER_PRESSURE_MAX_HEAP_MB: '1', UNDER_PRESSURE_RETRY_AFTER_S: '7' } });
    await server.start();
    tokens = await makeTokens(RELIABILITY_JWT_SECRET);
  });
  afterAll(async () => {
    await server?.dispose();
    await schema?.drop();
  });

  it('sheds API requests with 503, Retry-After and UNAVAILABLE; health and metrics still answer', async () => {
    // the plugin samples memory periodically: wait for the first sample to see the (forced) pressure
    let shed: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < 50 && !shed; i++) {
      const r = await post(server.url(), '{ me { id } }', {}, tokens.clerk);
      if (r.status === 503) shed = r;
      else await sleep(100);
    }
    expect(shed?.status).toBe(503);
    expect(shed?.retryAfter).toBe('7');
    expect(shed?.body?.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
    const health = await fetch(`${server.url()}/healthz`);
    const ready = await fetch(`${server.url()}/readyz`);
    const metrics = await fetch(`${server.url()}/metrics`);
    report('overload-forced', { shedStatus: shed?.status, retryAfter: shed?.retryAfter, healthz: health.status, readyz: ready.status, metrics: metrics.status });
    expect([health.status, ready.status, metrics.status]).toEqual([200, 200, 200]);
  });
});
