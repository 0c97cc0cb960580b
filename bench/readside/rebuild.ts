import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import type { EventStore } from '../../application/eventStore.ts';
import { createBlindIndex } from '../../infrastructure/keys.ts';
import { getPostgresEventStore } from '../../infrastructure/postgres/eventStore.ts';
import { migrate } from '../../infrastructure/postgres/migrate.ts';
import { createPool } from '../../infrastructure/postgres/pool.ts';
import { createProjections } from '../../projections/index.ts';
import { databaseUrl, dropSchemas, recreateSchema, withClient } from '../db.ts';
import { fmtInt, fmtNum, table } from '../report.ts';
import { timeRebuild, type RebuildFigures } from './rebuildTiming.ts';
import { cpuBetween, loadAverage, sampleLoad as sampleCpu, type CpuFigures } from '../cpu.ts';
import { createRng, buildCatalog, publishCatalog, fillCases, type FillResult } from './syntheticCases.ts';

/**
 * Rebuild throughput of the read side: `npx tsx bench/readside/rebuild.ts [--events N] [--json]`.
 *
 * 1. Fills a log of ~N events (default 1,000,000) in schema `bench_rebuild` with realistic case
 *    streams, through `getPostgresEventStore(...).appendToStream` (many concurrent writers, a few
 *    events per append, hash chain and idempotency key as in production). Each case is played
 *    through the write side's own decider (`decide` + `evolve`), so every stream is a valid lifecycle:
 *    CaseSubmitted (item snapshot parsed by ServiceItemRulesSchema) → [correction] → CaseAccepted
 *    (deadline by `computeDeadline`) → ReviewStepCompleted ×3 [suspension, extension, transfer,
 *    supervision notice, deadline warning/exceeded] → CaseDecided → ResultDelivered → CaseEvaluated
 *    [rectification]; a few are rejected, withdrawn or expire in correction. Dates: 2025-01 … 2026-12
 *    (the years the working-day calendar has). About 4,000 cases are open at once, so a case's
 *    appends are spread over ~40,000 events of the log, as in production where they are days apart.
 * 2. Times `rebuildProjection` from zero (fresh) for each projection alone, then all four at once
 *    (Promise.all). Sequential total = the sum of the four single runs.
 *
 * The schema is dropped at the end, also on error and on Ctrl-C (`--keep` keeps it; `--reuse` then
 * skips the fill next time).
 */

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

const USAGE = `usage: npx tsx bench/readside/rebuild.ts [options]

  --events N     events in the log (default 1000000); the fill stops at the first whole case past N
  --writers N    concurrent writers during the fill (default 64)
  --window N     cases open at once during the fill (default 4096)
  --batch N      rebuildProjection's page size (default: its own, 5000)
  --max-rows N   rows a replay session (cases) holds before it flushes (default: rebuildProjection's own, 20000)
  --plain        as before the rebuild optimisations, for comparison: page by page through apply, every index
                 from the start (the next page is still read ahead)
  --seed N       random seed (default 42)
  --only LIST    rebuild only these projections (comma-separated; default all four + all together)
  --json         one JSON line per figure on stdout; everything else on stderr
  --keep         keep schema bench_rebuild
  --reuse        reuse the log of a kept bench_rebuild (skip the fill)
  -h, --help

DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test). Works in schema bench_rebuild, dropped at the end.`;

const SCHEMA = 'bench_rebuild';
/** A fixed development key: the blind index costs what it costs in production (SM3 HMAC per row). */
const BENCH_MASTER_KEY = '5e1f0c0ffee0ddba11c0ffee0ddba11c';

const main = async () => {
  const { values: opts } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      writers: { type: 'string', default: '64' },
      window: { type: 'string', default: '4096' },
      batch: { type: 'string' },
      'max-rows': { type: 'string' },
      plain: { type: 'boolean', default: false },
      seed: { type: 'string', default: '42' },
      only: { type: 'string' },
      json: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      reuse: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  const N = Number(opts.events), W = Number(opts.writers), WINDOW = Number(opts.window), SEED = Number(opts.seed);
  const BATCH = opts.batch === undefined ? undefined : Number(opts.batch);
  const MAX_ROWS = opts['max-rows'] === undefined ? undefined : Number(opts['max-rows']);
  if (MAX_ROWS !== undefined && !(Number.isInteger(MAX_ROWS) && MAX_ROWS >= 1)) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  if (![N, W, WINDOW, SEED].every(Number.isInteger) || N < 1_000 || W < 1 || WINDOW < 1 || (BATCH !== undefined && !(Number.isInteger(BATCH) && BATCH >= 1 && BATCH <= 10_000))) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const url = databaseUrl();
  const say = (line: string) => (opts.json ? console.error(line) : console.log(line));
  const progress = (line: string) => console.error(line);
  const appName = `govcase-bench-rebuild-${process.pid}`;

  // clean-up, also on Ctrl-C: end our own connections, then drop the schema
  let cleaning: Promise<void> | null = null;
  let pool: pg.Pool | null = null;
  let store: EventStore | null = null;
  const cleanup = (interrupted: boolean) =>
    (cleaning ??= (async () => {
      if (interrupted) {
        // no graceful shutdown: end our own sessions (their transactions roll back), then drop the schema
        await withClient(url, (c) => c.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()', [appName])).catch(() => {});
        await dropSchemas(url, [SCHEMA]).catch((err: unknown) => progress(`could not drop ${SCHEMA}: ${(err as Error).message}`));
        return;
      }
      await store?.close().catch(() => {});
      await pool?.end().catch(() => {});
      if (opts.keep) progress(`kept schema ${SCHEMA}`);
      else await dropSchemas(url, [SCHEMA]).catch((err: unknown) => progress(`could not drop ${SCHEMA}: ${(err as Error).message}`));
    })());
  let interrupted = false;
  const stop = new AbortController();
  const interrupt = (why: string) => {
    if (interrupted) return;
    interrupted = true;
    stop.abort();
    progress(`${why}: stopping and dropping ${SCHEMA} …`);
    // connections we end now report errors nobody listens for any more: they must not kill the clean-up
    process.on('uncaughtException', () => {});
    process.on('unhandledRejection', () => {});
    void cleanup(true).finally(() => process.exit(130));
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => interrupt(sig));
  process.stdout.on('error', (err: NodeJS.ErrnoException) => interrupt(`stdout ${err.code ?? err.message}`));

  try {
    const reuse = opts.reuse && (await withClient(url, async (c) => (await c.query('select to_regclass($1) as t', [`${SCHEMA}.events`])).rows[0]?.t !== null));
    if (!reuse) await recreateSchema(url, SCHEMA);
    pool = createPool({ connectionString: url, schema: SCHEMA, max: 20, statementTimeoutMillis: 600_000, applicationName: appName });
    await migrate(pool);
    store = getPostgresEventStore({ pool, connectionString: url, schema: SCHEMA });
    const serverVersion = (await pool.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]!.v;
    if (opts.plain) say('--plain: page by page through apply, every index from the start (as before the rebuild optimisations)');
    say(`machine: ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? '?'}), PostgreSQL ${serverVersion}, Node ${process.version}; load average ${loadAverage()} at start`);

    // 1. fill
    let fill: FillResult | null = null;
    if (!reuse) {
      const rng = createRng(SEED);
      const catalog = buildCatalog();
      progress(`publishing ${catalog.items.length} service items …`);
      await publishCatalog(store, catalog);
      progress(`filling ~${fmtInt(N)} case events: ${W} writers, ${WINDOW} cases open at once …`);
      const c0 = sampleCpu();
      const f0 = performance.now();
      let last = f0;
      fill = await fillCases({
        store, catalog, rng, targetEvents: N, writers: W, window: WINDOW, signal: stop.signal,
        onProgress: (done, cases) => {
          const now = performance.now();
          if (now - last < 5_000) return;
          last = now;
          const rate = done / ((now - f0) / 1000);
          progress(`  fill: ${fmtInt(done)} / ${fmtInt(N)} events, ${fmtInt(cases)} cases, ${fmtInt(rate)} events/s, ETA ${fmtNum(Math.max(0, N - done) / rate, 0)} s; load ${loadAverage()}`);
        },
      });
      const fillSec = (performance.now() - f0) / 1000;
      const cpu = cpuBetween(c0, sampleCpu());
      say(`fill: ${fmtInt(fill.events)} case events (${fmtInt(fill.cases)} cases, ${fmtInt(fill.appends)} appends, ${fmtNum(fill.events / fill.appends, 2)} events/append) ` +
        `+ ${catalog.items.length} items published, ${fill.revisions} revised, in ${fmtNum(fillSec, 1)} s = ${fmtInt(fill.events / fillSec)} events/s ` +
        `(CPU cores: client ${fmtNum(cpu.client, 2)}, postgres ${fmtNum(cpu.postgres, 2)}, other ${fmtNum(cpu.other, 2)}); load ${loadAverage()}`);
      const types = [...fill.byType.entries()].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${fmtInt(n)}`).join(', ');
      say(`  events by type: ${types}`);
      if (fill.discarded.size > 0) say(`  lifecycles played again (ran past the calendar's years): ${[...fill.discarded.entries()].map(([m, n]) => `${n}× ${m}`).join('; ')}`);
      const v0 = performance.now();
      await pool.query('vacuum analyze events');
      await pool.query('vacuum analyze streams');
      await pool.query('vacuum analyze commands');
      progress(`vacuum analyze of the log: ${fmtNum((performance.now() - v0) / 1000, 1)} s`);
    }
    const sizes = await pool.query<{ n: string; size: string }>(
      `select (select count(*) from events)::text as n, pg_size_pretty(pg_total_relation_size('events')) as size`);
    const logEvents = Number(sizes.rows[0]!.n);
    say(`log: ${fmtInt(logEvents)} events in all, events table ${sizes.rows[0]!.size} with indexes`);

    // 2. rebuilds
    const projections = createProjections({ blindIndex: createBlindIndex(BENCH_MASTER_KEY) });
    const only = opts.only?.split(',').map((s) => s.trim()).filter(Boolean);
    const selected = only ? projections.filter((p) => only.includes(p.name)) : projections;
    if (selected.length === 0) throw new Error(`--only names none of ${projections.map((p) => p.name).join(', ')}`);
    const rows: (RebuildFigures & { cpu: CpuFigures; load: string })[] = [];
    const emit = (projection: string, events: number, eventsPerSec: number) => {
      if (opts.json) console.log(JSON.stringify({ bench: 'rebuild', projection, events, eventsPerSec: Math.round(eventsPerSec) }));
    };
    for (const p of selected) {
      await pool.query('checkpoint');
      progress(`rebuilding ${p.name} from zero …`);
      const c0 = sampleCpu();
      const r = await timeRebuild(pool, store, p, SCHEMA, BATCH, progress, stop.signal, opts.plain, MAX_ROWS);
      rows.push({ ...r, cpu: cpuBetween(c0, sampleCpu()), load: loadAverage() });
      progress(`  ${p.name}: ${fmtInt(r.events)} events in ${fmtNum(r.seconds, 1)} s = ${fmtInt(r.eventsPerSec)} events/s`);
      say(`  ${p.name}: read ${fmtNum(r.readSec, 1)} s (read ahead, overlaps the rest), fold ${fmtNum(r.foldSec, 1)} s, sql ${fmtNum(r.sqlSec, 1)} s ` +
        `(of which replay flushes ${fmtNum(r.flushSec, 1)} s), secondary indexes + analyze ${fmtNum(r.indexSec, 1)} s, ${fmtInt(r.pages)} pages read`);
      emit(p.name, r.events, r.eventsPerSec);
    }
    const seqSec = rows.reduce((s, r) => s + r.seconds, 0);
    let concurrent: { seconds: number; rows: RebuildFigures[]; cpu: CpuFigures; load: string } | null = null;
    if (selected.length > 1) {
      await pool.query('checkpoint');
      progress(`rebuilding ${selected.map((p) => p.name).join(', ')} at once (Promise.all) …`);
      const c0 = sampleCpu();
      const t0 = performance.now();
      const each = await Promise.all(selected.map((p) => timeRebuild(pool!, store!, p, SCHEMA, BATCH, progress, stop.signal, opts.plain, MAX_ROWS)));
      const seconds = (performance.now() - t0) / 1000;
      const cpu = cpuBetween(c0, sampleCpu());
      concurrent = { seconds, rows: each, cpu, load: loadAverage() };
    }

    // 3. sanity: the rebuilt read models hold what was written
    const check = await pool.query<{ cases: string; submitted: string; notices: string; items: string }>(`select
      (select count(*) from cases)::text as cases, (select coalesce(sum(submitted), 0) from stats_yearly)::text as submitted,
      (select count(*) from supervision_notices)::text as notices, (select count(*) from service_items)::text as items`).catch(() => null);

    // 4. report
    const pct = (part: number, all: number) => `${fmtNum((100 * part) / all, 0)}%`;
    const line = (r: RebuildFigures, label: string, cpu?: CpuFigures, load?: string) => [
      label, fmtInt(r.events), fmtNum(r.seconds, 1), fmtInt(r.eventsPerSec),
      pct(r.readSec, r.seconds), pct(r.foldSec, r.seconds), pct(r.sqlSec, r.seconds), pct(r.otherSec, r.seconds),
      cpu ? fmtNum(cpu.client, 2) : '', cpu ? fmtNum(cpu.postgres, 2) : '', cpu ? fmtNum(cpu.other, 2) : '', load ?? '',
    ];
    const columns = [
      { title: 'projection', align: 'left' as const }, { title: 'events' }, { title: 'seconds' }, { title: 'events/s' },
      { title: 'read' }, { title: 'fold' }, { title: 'sql' }, { title: 'other' },
      { title: 'client' }, { title: 'postgres' }, { title: 'other cpu' }, { title: 'load average (1/5/15 min)', align: 'left' as const },
    ];
    const out: string[][] = rows.map((r) => line(r, r.projection, r.cpu, r.load));
    if (rows.length > 1) {
      out.push(['all four, one after another (sum)', fmtInt(logEvents), fmtNum(seqSec, 1), fmtInt(logEvents / seqSec), '', '', '', '', '', '', '', '']);
      emit('all:sequential', logEvents, logEvents / seqSec);
    }
    if (concurrent) {
      for (const r of concurrent.rows) out.push(line(r, `${r.projection} (all at once)`));
      const cpu = concurrent.cpu;
      out.push(['all four at once (Promise.all), wall', fmtInt(logEvents), fmtNum(concurrent.seconds, 1), fmtInt(logEvents / concurrent.seconds),
        '', '', '', '', fmtNum(cpu.client, 2), fmtNum(cpu.postgres, 2), fmtNum(cpu.other, 2), concurrent.load]);
      emit('all:concurrent', logEvents, logEvents / concurrent.seconds);
    }
    say('');
    say(table(columns, out));
    say('');
    say('read = store.readAll (query + row parsing); fold = projection.apply outside its SQL (evolve, JSON, blind index);');
    say('sql = projection.apply\'s statements; other = applyPage\'s transaction (checkout, begin, advisory lock, checkpoint,');
    say('notify, commit) + table setup, the initial count and the switch-over. CPU columns in cores: this process, all local');
    say('postgres processes (other sessions\' included), the rest of the machine. Shares of one run, time-sliced on 2 cores when');
    say('run at once.');
    const cases = rows.find((r) => r.projection === 'cases');
    if (cases) say(`cases projection: ${fmtInt(cases.eventsPerSec)} events/s (target ≥ 30,000: ${cases.eventsPerSec >= 30_000 ? 'met' : 'NOT met'})`);
    if (check?.rows[0]) {
      const c = check.rows[0];
      say(`read models after the rebuilds: ${fmtInt(Number(c.cases))} cases${fill ? ` (${fmtInt(fill.cases)} written)` : ''}, ` +
        `${fmtInt(Number(c.submitted))} submissions counted in stats_yearly, ${fmtInt(Number(c.notices))} supervision notices, ${fmtInt(Number(c.items))} service items`);
    }
  } finally {
    await cleanup(false);
  }
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}

