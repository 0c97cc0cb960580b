import { randomUUID } from 'node:crypto';
import { startLoad, makeTokens, post, publishItem, type Load } from './load.ts';
import { createServerProcess, RELIABILITY_JWT_SECRET, type ServerProcess } from './serverProcess.ts';
import { adminPool, checkStore, compareProjectionsWithRebuild, freshSchema, waitForProjections, type StoreReport } from './verify.ts';

/** One line of figures per scenario, on stdout, for docs/reliability.md. */
export const report = (name: string, figures: object) => {
  process.stdout.write(`[reliability] ${name} ${JSON.stringify(figures)}\n`);
};

/** Progress on stderr with RELIABILITY_TRACE=1. */
export const trace = (msg: string) => {
  if (process.env.RELIABILITY_TRACE) process.stderr.write(`[reliability ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const waitReady = async (url: string, timeoutMs = 30_000): Promise<number> => {
  const t0 = Date.now();
  for (;;) {
    try {
      const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(3_000) });
      if (r.ok) return Date.now() - t0;
    } catch { /* not yet */ }
    if (Date.now() - t0 > timeoutMs) throw new Error(`${url}/readyz not green after ${timeoutMs} ms`);
    await sleep(100);
  }
};

export interface CrashFigures {
  kills: number;
  attempted: number;
  acknowledged: number;
  ackedAfterRetry: number;
  lost: number;
  doubled: number;
  partial: number;
  brokenChains: number;
  projectionsDiffering: number;
  restartMsMax: number;
  restartMsAvg: number;
  events: number;
  streams: number;
  casesCompleted: number;
  refused: number;
}

/**
 * Crash without loss: load on a child server, SIGKILL at random moments, restart, and at the end
 * check the store and the projections against the acknowledgements.
 */
export const crashScenario = async (options: { databaseUrl: string; kills: number; minRunMs: number; maxRunMs: number; workers: number }) => {
  const { schema, drop } = await freshSchema(options.databaseUrl, 'crash');
  const server: ServerProcess = createServerProcess({ databaseUrl: options.databaseUrl, schema });
  const pool = adminPool(options.databaseUrl, schema);
  let load: Load | undefined;
  try {
    await server.start();
    const tokens = await makeTokens(RELIABILITY_JWT_SECRET);
    const itemCode = `REL-${randomUUID().slice(0, 8)}`;
    const steps = await publishItem(server.url(), tokens, itemCode);
    load = startLoad({ url: server.url, tokens, itemCode, steps, workers: options.workers });
    const restarts: number[] = [];
    for (let i = 0; i < options.kills; i++) {
      await sleep(options.minRunMs + Math.random() * (options.maxRunMs - options.minRunMs));
      const ackedBefore = load.acked();
      await server.kill();
      const t0 = Date.now();
      await server.start();
      await waitReady(server.url());
      restarts.push(Date.now() - t0);
      if (load.acked() === ackedBefore && i === 0) { /* nothing acknowledged yet: still a valid cycle */ }
    }
    await sleep(options.minRunMs);
    await load.stop();
    const caughtUp = await waitForProjections(pool);
    const store: StoreReport = await checkStore(pool, load.acks);
    const exit = await server.terminate();
    const projections = await compareProjectionsWithRebuild(options.databaseUrl, schema);
    const figures: CrashFigures = {
      kills: options.kills,
      attempted: load.stats.attempted,
      acknowledged: store.acknowledged,
      ackedAfterRetry: [...load.acks.values()].filter((a) => a.afterRetry).length,
      lost: store.lost.length,
      doubled: store.doubled.length,
      partial: store.partial.length,
      brokenChains: store.brokenChains.length,
      projectionsDiffering: projections.differing.length,
      restartMsMax: Math.max(...restarts),
      restartMsAvg: Math.round(restarts.reduce((a, b) => a + b, 0) / restarts.length),
      events: store.events,
      streams: store.streams,
      casesCompleted: load.stats.casesCompleted,
      refused: load.stats.refused.length,
    };
    return { figures, store, projections, caughtUp, exit, refused: load.stats.refused, log: server.log };
  } finally {
    await load?.stop(1_000).catch(() => undefined);
    await pool.end().catch(() => undefined);
    await server.dispose();
    await drop();
  }
};

import { startTcpProxy } from './tcpProxy.ts';

export interface OutageFigures {
  outageMs: number;
  attempted: number;
  acknowledged: number;
  lost: number;
  partial: number;
  /** answers during the outage, by code */
  duringOutage: Record<string, number>;
  /** `cases` queries during the outage, by HTTP status / code / fast (< 6 s) */
  readsDuringOutage: Record<string, number>;
  /** slowest failed answer during the outage (ms) */
  failSlowestMs: number;
  /** median failed answer during the outage (ms) */
  failMedianMs: number;
  readyzRedAfterMs: number | null;
  readyzGreenAfterMs: number | null;
  /** from the proxy's return to the first acknowledged command */
  recoveryMs: number | null;
  /** from the proxy's return to every projection being within 50 events of the moving head */
  projectionsCaughtUpMs: number | null;
  projectionsDiffering: number;
  serverRestarted: boolean;
}

const countBy = (xs: readonly string[]) => xs.reduce<Record<string, number>>((a, c) => ({ ...a, [c]: (a[c] ?? 0) + 1 }), {});
const median = (xs: number[]) => (xs.length === 0 ? 0 : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);

/**
 * PostgreSQL away under load: the server reaches it through a TCP proxy the test cuts for
 * `outageMs`. Requests must fail fast with UNAVAILABLE, /readyz must go red, and when the proxy
 * comes back the server must recover by itself (same process) with nothing acknowledged lost.
 */
export const databaseOutageScenario = async (options: { databaseUrl: string; outageMs: number; workers: number }) => {
  const { schema, drop } = await freshSchema(options.databaseUrl, 'dbout');
  const target = new URL(options.databaseUrl);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const server = createServerProcess({ databaseUrl: proxy.url(options.databaseUrl), schema });
  const pool = adminPool(options.databaseUrl, schema);
  let load: Load | undefined;
  try {
    await server.start();
    const pid = server.pid();
    const tokens = await makeTokens(RELIABILITY_JWT_SECRET);
    const itemCode = `REL-${randomUUID().slice(0, 8)}`;
    const steps = await publishItem(server.url(), tokens, itemCode);
    load = startLoad({ url: server.url, tokens, itemCode, steps, workers: options.workers, pauseMs: 20 });
    await sleep(3_000);
    const cutAt = Date.now();
    proxy.cut();
    trace(`db cut; ${load.acked()} acked so far`);
    let readyzRedAfterMs: number | null = null;
    const reads: string[] = [];
    while (Date.now() - cutAt < options.outageMs) {
      if (readyzRedAfterMs === null) {
        const r = await fetch(`${server.url()}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(() => null);
        if (r && r.status === 503) readyzRedAfterMs = Date.now() - cutAt;
      }
      // reads go through the pool without the event store's error mapping: they must say UNAVAILABLE too
      const t0 = Date.now();
      const q = await post(server.url(), '{ cases(first: 5) { totalCount edges { node { id status } } } }', {}, tokens.clerk).catch((err: Error) => ({ status: 0, body: null, retryAfter: null, err }));
      reads.push(`${q.status}/${q.body?.errors?.[0]?.extensions?.code ?? 'OK'}/${Date.now() - t0 < 6_000 ? 'fast' : 'slow'}`);
      await sleep(200);
    }
    const restoredAt = Date.now();
    proxy.restore();
    trace(`db restored; readyz red after ${readyzRedAfterMs} ms; ${load.failures.length} failures so far`);
    const during = load.failures.filter((f) => f.at >= cutAt && f.at < restoredAt);
    const ackedAtRestore = load.acked();
    let readyzGreenAfterMs: number | null = null;
    let recoveryMs: number | null = null;
    while (Date.now() - restoredAt < 60_000 && (readyzGreenAfterMs === null || recoveryMs === null)) {
      if (readyzGreenAfterMs === null) {
        const r = await fetch(`${server.url()}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(() => null);
        if (r?.ok) readyzGreenAfterMs = Date.now() - restoredAt;
      }
      if (recoveryMs === null && load.acked() > ackedAtRestore) recoveryMs = Date.now() - restoredAt;
      await sleep(100);
    }
    trace(`readyz green after ${readyzGreenAfterMs} ms, first ack after ${recoveryMs} ms`);
    // under load the head moves: "caught up" is every projection within 50 events of it
    const caughtUp = await waitForProjections(pool, 60_000, 50);
    trace(`projections caught up: ${caughtUp}`);
    const projectionsCaughtUpMs = caughtUp ? Date.now() - restoredAt : null;
    for (const line of server.log.filter((l) => /projection|live events|redis/.test(l)).slice(-30)) trace(`server: ${line}`);
    await sleep(2_000);
    await load.stop();
    trace(`load stopped: ${JSON.stringify({ ...load.stats, refused: load.stats.refused.length, unresolved: load.stats.unresolved.length })}`);
    const store = await checkStore(pool, load.acks);
    await waitForProjections(pool, 60_000);
    const samePid = server.pid() === pid;
    const exit = await server.terminate();
    const projections = await compareProjectionsWithRebuild(options.databaseUrl, schema);
    const figures: OutageFigures = {
      outageMs: restoredAt - cutAt,
      attempted: load.stats.attempted,
      acknowledged: store.acknowledged,
      lost: store.lost.length,
      partial: store.partial.length,
      duringOutage: countBy(during.map((f) => f.code)),
      readsDuringOutage: countBy(reads),
      failSlowestMs: Math.max(0, ...during.map((f) => f.ms)),
      failMedianMs: median(during.map((f) => f.ms)),
      readyzRedAfterMs,
      readyzGreenAfterMs,
      recoveryMs,
      projectionsCaughtUpMs,
      projectionsDiffering: projections.differing.length,
      serverRestarted: !samePid,
    };
    return { figures, store, projections, exit, refused: load.stats.refused, log: server.log };
  } finally {
    await load?.stop(1_000).catch(() => undefined);
    await pool.end().catch(() => undefined);
    await server.dispose();
    await proxy.close();
    await drop();
  }
};

export interface RedisOutageFigures {
  outageMs: number;
  attempted: number;
  acknowledged: number;
  lost: number;
  /** command answers during the outage, by code (RATE_LIMITED would be the load's own fault) */
  failuresDuringOutage: Record<string, number>;
  /** acknowledged commands during the outage */
  ackedDuringOutage: number;
  /** a burst of one fresh token during the outage: answers by HTTP status (429 = the in-process limit holds) */
  burstDuringOutage: Record<string, number>;
  /** from the proxy's return to the server's "redis: connected" */
  recoveryMs: number | null;
  /** a fresh token's counter appears in Redis again after the return */
  countersBackInRedis: boolean;
}

/**
 * Redis away under load (through a TCP proxy): commands keep succeeding, the rate limit falls back
 * to in-process counting (a burst is still limited), and when Redis returns the counters go back to it.
 */
export const redisOutageScenario = async (options: { databaseUrl: string; redisUrl: string; outageMs: number; workers: number }) => {
  const { createClient } = await import('redis');
  const { signToken } = await import('../../../graphql/auth.ts');
  const { schema, drop } = await freshSchema(options.databaseUrl, 'redisout');
  const target = new URL(options.redisUrl);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
  // a limit the load stays under (per token), low enough for a burst to reach
  const server = createServerProcess({ databaseUrl: options.databaseUrl, schema, redisUrl: proxy.url(options.redisUrl), env: { RATE_LIMIT_MAX: '150', RATE_LIMIT_WINDOW_MS: '5000' } });
  const redis = createClient({ url: options.redisUrl });
  await redis.connect();
  const keysFor = async (sub: string) => {
    const token = await signToken(RELIABILITY_JWT_SECRET, { sub, roles: ['applicant'] }, '1h');
    return token;
  };
  const burst = async (token: string, n: number) => {
    const statuses: string[] = [];
    for (let i = 0; i < n; i += 25)
      statuses.push(...(await Promise.all(Array.from({ length: 25 }, () => post(server.url(), '{ me { id } }', {}, token).then((r) => String(r.status), () => 'NETWORK')))));
    return countBy(statuses);
  };
  let load: Load | undefined;
  try {
    await server.start();
    const tokens = await makeTokens(RELIABILITY_JWT_SECRET);
    const itemCode = `REL-${randomUUID().slice(0, 8)}`;
    const steps = await publishItem(server.url(), tokens, itemCode);
    load = startLoad({ url: server.url, tokens, itemCode, steps, workers: options.workers, pauseMs: 100 });
    await sleep(2_000);
    const cutAt = Date.now();
    const ackedAtCut = load.acked();
    proxy.cut();
    trace(`redis cut; ${ackedAtCut} acked so far`);
    await sleep(500);
    const burstDuringOutage = await burst(await keysFor(`burst-${randomUUID()}`), 200);
    await sleep(Math.max(0, options.outageMs - (Date.now() - cutAt)));
    const restoredAt = Date.now();
    const ackedDuringOutage = load.acked() - ackedAtCut;
    const during = load.failures.filter((f) => f.at >= cutAt && f.at < restoredAt);
    proxy.restore();
    let recoveryMs: number | null = null;
    while (Date.now() - restoredAt < 30_000) {
      const connected = server.timed.find((l) => l.at >= restoredAt && /redis: connected/.test(l.line));
      if (connected) { recoveryMs = connected.at - restoredAt; break; }
      await sleep(100);
    }
    // the rate-limit key of a fresh token (graphql/rateLimit.ts: the hashed Authorization header)
    const fresh = await keysFor(`after-${randomUUID()}`);
    const { createHash } = await import('node:crypto');
    const hashed = createHash('sha256').update(`Bearer ${fresh}`).digest('base64url').slice(0, 22);
    await burst(fresh, 5);
    const countersBackInRedis = (await redis.keys(`govcase:rl:*${hashed}`)).length > 0;
    await sleep(1_000);
    await load.stop();
    const pool = adminPool(options.databaseUrl, schema);
    let store: StoreReport;
    try {
      store = await checkStore(pool, load.acks);
    } finally {
      await pool.end();
    }
    const exit = await server.terminate();
    const figures: RedisOutageFigures = {
      outageMs: restoredAt - cutAt,
      attempted: load.stats.attempted,
      acknowledged: store.acknowledged,
      lost: store.lost.length,
      failuresDuringOutage: countBy(during.map((f) => f.code)),
      ackedDuringOutage,
      burstDuringOutage,
      recoveryMs,
      countersBackInRedis,
    };
    return { figures, store, exit, refused: load.stats.refused, log: server.log };
  } finally {
    await load?.stop(1_000).catch(() => undefined);
    await redis.close().catch(() => undefined);
    await server.dispose();
    await proxy.close();
    await drop();
  }
};

import { signToken } from '../../../graphql/auth.ts';
import { runFuzz, type FuzzResult } from './fuzz.ts';

export interface FuzzFigures {
  requests: number;
  seed: number;
  byStatus: Record<string, number>;
  fiveXx: number;
  networkErrors: number;
  /** connection failures before an answer, sent once more (see runFuzz) */
  resent: string[];
  serverRestarted: boolean;
  rssBaselineMb: number | null;
  rssAfterMb: number | null;
  rssSettledMb: number | null;
  /** V8 heap in use (the server's /metrics): what is retained, as opposed to RSS the allocator keeps */
  heapBaselineMb: number | null;
  heapAfterMb: number | null;
  heapSettledMb: number | null;
}

/** Fuzzing against `govcase serve` with some real cases in it; the server must answer everything below 500 and stay up. */
export const fuzzScenario = async (options: { databaseUrl: string; count: number; seed: number; concurrency: number; settleMs?: number }) => {
  const { schema, drop } = await freshSchema(options.databaseUrl, 'fuzz');
  const server = createServerProcess({ databaseUrl: options.databaseUrl, schema, nodeArgs: ['--expose-gc'] });
  try {
    await server.start();
    const pid = server.pid();
    const tokens = await makeTokens(RELIABILITY_JWT_SECRET);
    const itemCode = `REL-${randomUUID().slice(0, 8)}`;
    const steps = await publishItem(server.url(), tokens, itemCode);
    const load = startLoad({ url: server.url, tokens, itemCode, steps, workers: 3 });
    await sleep(1_500);
    await load.stop();
    const caseIds = [...new Set([...load.acks.values()].map((a) => a.caseId))];
    const ctx = {
      ids: [...caseIds, ...caseIds.map((id) => `case-${id}`)],
      itemCodes: [itemCode, 'NOPE'],
      tokens: [
        undefined, tokens.admin, tokens.applicant, tokens.clerk, tokens.reviewer,
        await signToken(RELIABILITY_JWT_SECRET, { sub: 'rel-auditor', roles: ['auditor'] }, '1h'),
        await signToken(RELIABILITY_JWT_SECRET, { sub: 'rel-sup', roles: ['supervisor'], region: '520100' }, '1h'),
        await signToken(RELIABILITY_JWT_SECRET, { sub: 'rel-expired', roles: ['admin'] }, '-1h'),
        await signToken('another-secret-another-secret-another-secret', { sub: 'rel-forged', roles: ['admin'] }, '1h'),
      ],
    };
    // warm up, then the baseline
    await runFuzz({ url: server.url, seed: options.seed + 1, count: 200, concurrency: options.concurrency, ctx });
    await sleep(1_000);
    const heapMb = async () => {
      const m = await fetch(`${server.url()}/metrics`).then((r) => r.text(), () => '');
      const v = /^govcase_nodejs_heap_size_used_bytes (\d+)/m.exec(m)?.[1];
      return v ? Math.round(Number(v) / 1_048_576) : null;
    };
    const rssBaselineMb = server.rssMb();
    const heapBaselineMb = await heapMb();
    const result: FuzzResult = await runFuzz({ url: server.url, seed: options.seed, count: options.count, concurrency: options.concurrency, ctx });
    const rssAfterMb = server.rssMb();
    const heapAfterMb = await heapMb();
    await sleep(options.settleMs ?? 5_000);
    // a full collection first (SIGUSR2, the server runs with --expose-gc): what remains is retained, not garbage
    process.kill(server.pid()!, 'SIGUSR2');
    await sleep(1_000);
    const rssSettledMb = server.rssMb();
    const heapSettledMb = await heapMb();
    const alive = await fetch(`${server.url()}/healthz`).then((r) => r.status, () => 0);
    const figures: FuzzFigures = {
      requests: result.requests, seed: options.seed, byStatus: result.byStatus, fiveXx: result.fiveXx.length, networkErrors: result.networkErrors.length, resent: result.resent,
      serverRestarted: server.pid() !== pid || alive !== 200, rssBaselineMb, rssAfterMb, rssSettledMb, heapBaselineMb, heapAfterMb, heapSettledMb,
    };
    const exit = await server.terminate();
    return { figures, result, exit, alive, log: server.log };
  } finally {
    await server.dispose();
    await drop();
  }
};

export interface OverloadFigures {
  floodSeconds: number;
  concurrency: number;
  requests: number;
  byStatus: Record<string, number>;
  shedWithRetryAfter: number;
  healthzDuringFlood: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  /** after the flood: the first request answered 200 this long after it stopped */
  recoveredAfterMs: number | null;
  rssPeakMb: number | null;
}

const INTROSPECTION = `{ __schema { types { name kind fields { name args { name type { name kind ofType { name kind ofType { name kind } } } } type { name kind ofType { name kind ofType { name kind } } } } inputFields { name } enumValues { name } } } }`;

/**
 * Past capacity: a flood of expensive requests (introspection, CPU-bound) at a concurrency the
 * process cannot keep up with, against a server whose event-loop-delay threshold is set low: it
 * must shed with 503 + Retry-After (not queue without bound), keep /healthz answering, and serve
 * normally once the flood stops.
 */
export const overloadScenario = async (options: { databaseUrl: string; floodMs: number; concurrency: number; maxEventLoopDelayMs: number }) => {
  const { schema, drop } = await freshSchema(options.databaseUrl, 'overload');
  const server = createServerProcess({ databaseUrl: options.databaseUrl, schema, env: { UNDER_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: String(options.maxEventLoopDelayMs), UNDER_PRESSURE_RETRY_AFTER_S: '2' } });
  try {
    await server.start();
    const tokens = await makeTokens(RELIABILITY_JWT_SECRET);
    const statuses: string[] = [];
    const latencies: number[] = [];
    let shedWithRetryAfter = 0;
    let rssPeakMb: number | null = null;
    const health: string[] = [];
    const until = Date.now() + options.floodMs;
    const flooder = async () => {
      while (Date.now() < until) {
        const t0 = Date.now();
        try {
          const r = await post(server.url(), INTROSPECTION, {}, tokens.clerk, 60_000);
          statuses.push(String(r.status));
          if (r.status === 503 && r.retryAfter && r.body?.errors?.[0]?.extensions?.code === 'UNAVAILABLE') shedWithRetryAfter++;
          if (r.status === 200) latencies.push(Date.now() - t0);
        } catch (err) {
          statuses.push(`network:${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name}`);
        }
      }
    };
    const prober = async () => {
      while (Date.now() < until) {
        health.push(await fetch(`${server.url()}/healthz`, { signal: AbortSignal.timeout(10_000) }).then((r) => String(r.status), () => 'network'));
        rssPeakMb = Math.max(rssPeakMb ?? 0, server.rssMb() ?? 0);
        await sleep(250);
      }
    };
    await Promise.all([...Array.from({ length: options.concurrency }, () => flooder()), prober()]);
    const stoppedAt = Date.now();
    let recoveredAfterMs: number | null = null;
    while (Date.now() - stoppedAt < 30_000) {
      const r = await post(server.url(), '{ me { id } }', {}, tokens.clerk).catch(() => null);
      if (r?.status === 200) { recoveredAfterMs = Date.now() - stoppedAt; break; }
      await sleep(200);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
    const figures: OverloadFigures = {
      floodSeconds: options.floodMs / 1000, concurrency: options.concurrency, requests: statuses.length, byStatus: countBy(statuses),
      shedWithRetryAfter, healthzDuringFlood: countBy(health), p50Ms: pct(0.5), p99Ms: pct(0.99), recoveredAfterMs, rssPeakMb,
    };
    const exit = await server.terminate();
    return { figures, exit };
  } finally {
    await server.dispose();
    await drop();
  }
};
