import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import type { EventStore, RecordedEvent } from '../../application/eventStore.ts';
import { createBlindIndex } from '../../infrastructure/keys.ts';
import { getPostgresEventStore } from '../../infrastructure/postgres/eventStore.ts';
import { migrate } from '../../infrastructure/postgres/migrate.ts';
import { createPool } from '../../infrastructure/postgres/pool.ts';
import { createProjections } from '../../projections/index.ts';
import { createProjectionRunner, type ProjectionRunner } from '../../projections/runner.ts';
import { databaseUrl, dropSchemas, recreateSchema, withClient } from '../db.ts';
import { fmtInt, fmtNum, table } from '../report.ts';
import { buildCatalog, createCaseFactory, createRng, publishCatalog, regroup, type SimCase } from './syntheticCases.ts';
import { cpuBetween, loadAverage, sampleLoad as sampleCpu } from '../cpu.ts';

/**
 * Projection lag under a steady write load: `npx tsx bench/readside/lag.ts [--rate 1000] [--seconds 30]`.
 *
 * Starts a `createProjectionRunner` with all four projections (as `serve` does: same process, same
 * pool as the store) in schema `bench_lag`, then appends case events at a paced, open-loop rate:
 * realistic case lifecycles (the generator of rebuild.ts, played through the decider) cut into
 * appends of ~5 events, a few hundred cases open at once so a case's appends are seconds apart.
 * For every appended event: lag = the moment its projection's batch committed (the runner's
 * `committed` 'batch' event, matched by event id) − the moment its `appendToStream` call returned.
 * The first `--warmup` seconds are appended but not counted.
 */
const USAGE = `usage: npx tsx bench/readside/lag.ts [options]

  --rate N        events per second to append (default 1000)
  --seconds N     measured seconds (default 30)
  --warmup N      seconds of load before the measured window, not counted (default 3)
  --per-append N  events per append call (default 5)
  --window N      cases open at once (default 400)
  --batch N       the runner's batch size (default: its own, 1000)
  --seed N        random seed (default 7)
  --json          one JSON line per projection on stdout; everything else on stderr
  -h, --help

DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test). Works in schema bench_lag, dropped at the end.`;

const SCHEMA = 'bench_lag';
const BENCH_MASTER_KEY = '5e1f0c0ffee0ddba11c0ffee0ddba11c';

const percentile = (sorted: Float64Array, p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const main = async () => {
  const { values: opts } = parseArgs({
    options: {
      rate: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '30' },
      warmup: { type: 'string', default: '3' },
      'per-append': { type: 'string', default: '5' },
      window: { type: 'string', default: '400' },
      batch: { type: 'string' },
      seed: { type: 'string', default: '7' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  const RATE = Number(opts.rate), SECONDS = Number(opts.seconds), WARMUP = Number(opts.warmup);
  const PER = Number(opts['per-append']), WINDOW = Number(opts.window), SEED = Number(opts.seed);
  const BATCH = opts.batch === undefined ? undefined : Number(opts.batch);
  if (!(RATE > 0) || !(SECONDS > 0) || !(WARMUP >= 0) || !Number.isInteger(PER) || PER < 1 || PER > 1000 || !Number.isInteger(WINDOW) || WINDOW < 1 ||
    !Number.isInteger(SEED) || (BATCH !== undefined && !(Number.isInteger(BATCH) && BATCH >= 1 && BATCH <= 10_000))) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const url = databaseUrl();
  const say = (line: string) => (opts.json ? console.error(line) : console.log(line));
  const progress = (line: string) => console.error(line);
  const appName = `govcase-bench-lag-${process.pid}`;

  let cleaning: Promise<void> | null = null;
  let pool: pg.Pool | null = null;
  let store: EventStore | null = null;
  let runner: ProjectionRunner | null = null;
  const cleanup = (interrupted: boolean) =>
    (cleaning ??= (async () => {
      if (interrupted) {
        void runner?.stop().catch(() => {});
        // no graceful shutdown: end our own sessions (their transactions roll back), then drop the schema
        await withClient(url, (c) => c.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()', [appName])).catch(() => {});
        await dropSchemas(url, [SCHEMA]).catch((err: unknown) => progress(`could not drop ${SCHEMA}: ${(err as Error).message}`));
        return;
      }
      await runner?.stop().catch(() => {});
      await store?.close().catch(() => {});
      await pool?.end().catch(() => {});
      await dropSchemas(url, [SCHEMA]).catch((err: unknown) => progress(`could not drop ${SCHEMA}: ${(err as Error).message}`));
    })());
  let interrupted = false;
  const interrupt = (why: string) => {
    if (interrupted) return;
    interrupted = true;
    progress(`${why}: stopping and dropping ${SCHEMA} …`);
    // connections we end now report errors nobody listens for any more: they must not kill the clean-up
    process.on('uncaughtException', () => {});
    process.on('unhandledRejection', () => {});
    void cleanup(true).finally(() => process.exit(130));
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => interrupt(sig));
  process.stdout.on('error', (err: NodeJS.ErrnoException) => interrupt(`stdout ${err.code ?? err.message}`));

  try {
    await recreateSchema(url, SCHEMA);
    pool = createPool({ connectionString: url, schema: SCHEMA, max: 20, applicationName: appName });
    await migrate(pool);
    store = getPostgresEventStore({ pool, connectionString: url, schema: SCHEMA });
    say(`machine: ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? '?'}), Node ${process.version}; load average ${loadAverage()} at start`);

    const rng = createRng(SEED);
    const catalog = buildCatalog();
    await publishCatalog(store, catalog);
    const projections = createProjections({ blindIndex: createBlindIndex(BENCH_MASTER_KEY) });
    const names = projections.map((p) => p.name);

    // every committed batch: when each of its events became visible in that projection; and when the
    // runner's subscription had read the page (the runner emits the very array the subscription yielded)
    const readAt = new WeakMap<readonly RecordedEvent[], number>();
    const baseStore = store;
    const timedStore: EventStore = {
      ...baseStore,
      async *subscribeToAll(o) {
        for await (const page of baseStore.subscribeToAll(o)) {
          readAt.set(page, performance.now());
          yield page;
        }
      },
    };
    const seen = new Map<string, Map<string, number>>(names.map((n) => [n, new Map()]));
    const read = new Map<string, Map<string, number>>(names.map((n) => [n, new Map()]));
    const batches = new Map<string, { n: number; events: number }>(names.map((n) => [n, { n: 0, events: 0 }]));
    const last = new Map<string, string>();
    const onBatch = (name: string, events: readonly RecordedEvent[], position: string) => {
      const now = performance.now();
      const m = seen.get(name);
      const r = read.get(name);
      if (!m || !r) return;
      const at = readAt.get(events) ?? NaN;
      for (const e of events) {
        if (m.has(e.id)) continue;
        m.set(e.id, now);
        r.set(e.id, at);
      }
      const b = batches.get(name)!;
      b.n++;
      b.events += events.length;
      last.set(name, position);
    };
    runner = createProjectionRunner({
      pool, store: timedStore, projections, connectionString: url, schema: SCHEMA, log: (m) => progress(`runner: ${m}`),
      ...(BATCH === undefined ? {} : { batchSize: BATCH }),
    });
    runner.committed.on('batch', onBatch);
    runner.start();
    // caught up with the catalogue before the load starts
    const head = await store.headPosition();
    const caughtUp = Date.now() + 60_000;
    while (head && !names.every((n) => last.has(n) && store!.comparePositions(last.get(n)!, head) >= 0)) {
      if (Date.now() > caughtUp) throw new Error('the projections did not catch up with the catalogue within 60 s');
      await sleep(20);
    }
    for (const b of batches.values()) { b.n = 0; b.events = 0; }

    // the load: open loop, paced by events; a case's next append only after its previous one returned
    const factory = createCaseFactory(rng, catalog);
    const ready: SimCase[] = [];
    let open = 0;
    let cases = 0;
    const total = WARMUP + SECONDS;
    let t0 = performance.now();
    const newCase = () => {
      cases++;
      open++;
      // submission dates advance through 2025-01 … 2026-09 over the run
      return regroup(factory.next(Math.min(1, (performance.now() - t0) / (total * 1000))), PER);
    };
    const appendedAt = new Map<string, number>(); // event id → when its append returned (measured window only)
    const appendMs: number[] = [];
    const inFlight = new Set<Promise<void>>();
    let failure: unknown = null;
    let measuredEvents = 0;
    let behindMax = 0;
    let scheduled = 0;
    progress(`appending ${fmtInt(RATE)} events/s for ${WARMUP} s warm-up + ${SECONDS} s, ~${PER} events per append, ${WINDOW} cases open …`);
    t0 = performance.now();
    const measureFrom = t0 + WARMUP * 1000;
    const end = t0 + total * 1000;
    let c0 = sampleCpu();
    let measureStarted = false;
    let lastLog = t0;
    for (;;) {
      const due = t0 + (scheduled / RATE) * 1000;
      if (due >= end || failure !== null || interrupted) break;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const now = performance.now();
      behindMax = Math.max(behindMax, now - due);
      if (!measureStarted && now >= measureFrom) {
        measureStarted = true;
        c0 = sampleCpu();
      }
      if (now - lastLog > 5_000) {
        lastLog = now;
        progress(`  ${fmtNum((now - t0) / 1000, 0)} s: ${fmtInt(scheduled)} events appended, ${inFlight.size} appends in flight; load ${loadAverage()}`);
      }
      let c: SimCase;
      if (ready.length > 0 && (open >= WINDOW || rng() < 0.5)) {
        const i = Math.floor(rng() * ready.length);
        c = ready[i]!;
        ready[i] = ready[ready.length - 1]!;
        ready.pop();
      } else c = newCase();
      const group = c.groups[c.next]!;
      scheduled += group.length;
      const counted = due >= measureFrom;
      const issued = performance.now();
      const p = store
        .appendToStream(c.streamId, group, { expectedVersion: c.head ? c.head.version : 'no_stream', head: c.head, commandId: group[0]!.metadata.commandId })
        .then((res) => {
          const done = performance.now();
          c.head = { version: res.version, hash: res.events[res.events.length - 1]!.hash };
          if (counted) {
            for (const e of res.events) appendedAt.set(e.id, done);
            appendMs.push(done - issued);
            measuredEvents += res.events.length;
          }
          c.next++;
          if (c.next < c.groups.length) ready.push(c);
          else open--;
        })
        .catch((err: unknown) => { failure = err; })
        .finally(() => { inFlight.delete(p); });
      inFlight.add(p);
    }
    const loadEnd = performance.now();
    await Promise.all(inFlight);
    const cpu = cpuBetween(c0, sampleCpu());
    const loadAtEnd = loadAverage();
    if (failure !== null) throw failure;
    const windowSec = (loadEnd - measureFrom) / 1000;

    // every measured event projected, by every projection (or a time limit)
    const ids = [...appendedAt.keys()];
    const drainUntil = performance.now() + 60_000;
    while (!names.every((n) => { const m = seen.get(n)!; return ids.every((id) => m.has(id)); }) && performance.now() < drainUntil) await sleep(50);

    // report
    const rows: string[][] = [];
    const cases0 = { p99: NaN };
    for (const name of names) {
      const m = seen.get(name)!;
      const r = read.get(name)!;
      const lags = new Float64Array(ids.length);
      const toRead = new Float64Array(ids.length);
      const toCommit = new Float64Array(ids.length);
      let k = 0, early = 0, missing = 0;
      for (const id of ids) {
        const s = m.get(id);
        if (s === undefined) { missing++; continue; }
        const lag = s - appendedAt.get(id)!;
        if (lag < 0) early++;
        const at = r.get(id) ?? NaN;
        toRead[k] = Math.max(0, at - appendedAt.get(id)!);
        toCommit[k] = s - at;
        lags[k++] = Math.max(0, lag);
      }
      const sorted = lags.subarray(0, k).sort();
      const readSorted = toRead.subarray(0, k).sort();
      const commitSorted = toCommit.subarray(0, k).sort();
      const fig = { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.length ? sorted[sorted.length - 1]! : NaN };
      if (name === 'cases') cases0.p99 = fig.p99;
      const b = batches.get(name)!;
      rows.push([name, fmtInt(k), fmtNum(fig.p50, 1), fmtNum(fig.p95, 1), fmtNum(fig.p99, 1), fmtNum(fig.max, 1),
        `${fmtNum(percentile(readSorted, 50), 1)} / ${fmtNum(percentile(readSorted, 99), 1)}`,
        `${fmtNum(percentile(commitSorted, 50), 1)} / ${fmtNum(percentile(commitSorted, 99), 1)}`,
        fmtInt(b.n), fmtNum(b.events / Math.max(1, b.n), 1), fmtInt(early), fmtInt(missing)]);
      if (opts.json) console.log(JSON.stringify({
        bench: 'lag', projection: name, events: k, rate: Math.round(measuredEvents / windowSec),
        p50Ms: +fig.p50.toFixed(1), p95Ms: +fig.p95.toFixed(1), p99Ms: +fig.p99.toFixed(1), maxMs: +fig.max.toFixed(1),
      }));
    }
    const am = Float64Array.from(appendMs).sort();
    say('');
    say(`achieved: ${fmtInt(measuredEvents / windowSec)} events/s (${fmtInt(appendMs.length / windowSec)} appends/s, ${fmtNum(measuredEvents / Math.max(1, appendMs.length), 2)} events/append) ` +
      `over ${fmtNum(windowSec, 1)} s, target ${fmtInt(RATE)}; pacing at most ${fmtNum(behindMax, 1)} ms behind schedule; ${fmtInt(cases)} cases`);
    say(`append call (issue → return): p50 ${fmtNum(percentile(am, 50), 1)} ms, p99 ${fmtNum(percentile(am, 99), 1)} ms, max ${fmtNum(am.length ? am[am.length - 1]! : NaN, 1)} ms`);
    say(`CPU during the measured window, cores: this process (writers + runner) ${fmtNum(cpu.client, 2)}, postgres ${fmtNum(cpu.postgres, 2)}, ` +
      `other ${fmtNum(cpu.other, 2)}; load average ${loadAtEnd}`);
    say('');
    say('lag = batch committed (runner.committed) − append call returned, per event');
    say(table([
      { title: 'projection', align: 'left' }, { title: 'events' }, { title: 'p50 ms' }, { title: 'p95 ms' }, { title: 'p99 ms' }, { title: 'max ms' },
      { title: 'until read p50/p99' }, { title: 'apply+commit p50/p99' },
      { title: 'batches' }, { title: 'events/batch' }, { title: 'before return' }, { title: 'not projected' },
    ], rows));
    say('until read: append call returned → the runner\'s subscription yielded the page holding the event (waiting for visibility,');
    say('for the notification, for the previous batch of that projection to finish); apply+commit: page yielded → batch committed.');
    say('before return: events whose batch committed before their append call had returned, counted as 0 ms.');
    say(`cases projection p99 ${fmtNum(cases0.p99, 1)} ms (target ≤ 200 ms: ${cases0.p99 <= 200 ? 'met' : 'NOT met'})`);
  } finally {
    await cleanup(false);
  }
};

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
