import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { acquireRunLock, databaseUrl, dropSchemas, withClient } from './db.ts';
import {
  IMPLS, type AppendOutcome, type CatchupMethod, type CatchupOutcome, type Impl,
} from './protocol.ts';
import { fmtInt, fmtNum, fmtRatio, table } from './report.ts';
import { Worker } from './workerProcess.ts';
import { APPENDS_PER_STREAM, backgroundLoad } from './workload.ts';

/**
 * `npm run bench -- [append|catchup] [options]`: append throughput and catch-up read throughput of
 * our PostgreSQL event store against Emmett (emmett-postgresql) and a bare pg INSERT, on the same
 * database in the same run. See docs/benchmarks.md. Each implementation runs in a worker process of
 * its own (bench/worker.ts); this process orders the measurements, keeps time, prints, cleans up.
 */
const USAGE = `usage: npm run bench -- [append|catchup] [options]   (no subcommand: both)

  --seconds N    measured seconds per append measurement (default 5)
  --warmup N     warm-up seconds before each append measurement (default 1)
  --rounds N     repeat every append measurement N times, interleaved; report the median (default 1)
  --events N     events in the catch-up log (default 200000)
  --impls LIST   comma-separated subset of govcase,emmett,pg (default: all)
  --configs LIST append measurements as EVENTSxWRITERS, comma-separated subset of 1x1,1x8,1x32,10x8,10x32 (default: all)
  --json         one JSON object per line per measurement on stdout; everything else on stderr
  --keep         keep the catch-up logs (schemas bench_govcase_log, bench_emmett_log) for the next run
  --cpu-prof DIR write a V8 CPU profile of each worker process into DIR
  -h, --help

DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) is the database; the benchmark
works only in schemas named bench_* and drops them at the end (also on Ctrl-C).`;

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '1' },
    events: { type: 'string', default: '200000' },
    impls: { type: 'string', default: IMPLS.join(',') },
    configs: { type: 'string', default: '1x1,1x8,1x32,10x8,10x32' },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const fail = (msg: string): never => {
  console.error(`bench: ${msg}\n\n${USAGE}`);
  process.exit(2);
};

if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}
const sub = positionals[0] ?? 'all';
if (positionals.length > 1 || !['append', 'catchup', 'all'].includes(sub)) fail(`unknown subcommand: ${positionals.join(' ')}`);
const number = (name: string, raw: string, min: number, max: number) => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) fail(`--${name} must be a number from ${min} to ${max}`);
  return n;
};
const SECONDS = number('seconds', opts.seconds, 0.5, 600);
const WARMUP = number('warmup', opts.warmup, 0, 60);
const ROUNDS = Math.floor(number('rounds', opts.rounds, 1, 20));
const EVENTS = Math.floor(number('events', opts.events, 1, 20_000_000));
const JSON_MODE = opts.json;
const impls = opts.impls.split(',').map((s) => s.trim()).filter(Boolean);
for (const i of impls) if (!(IMPLS as readonly string[]).includes(i)) fail(`unknown implementation in --impls: ${i}`);
const SELECTED = IMPLS.filter((i) => impls.includes(i));

const URL_ = databaseUrl();
/** Human output: stdout normally, stderr in --json mode (stdout then carries only JSON lines). */
const out = (s = '') => (JSON_MODE ? process.stderr : process.stdout).write(`${s}\n`);
const progress = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const emit = (obj: Record<string, unknown>) => {
  if (JSON_MODE) process.stdout.write(`${JSON.stringify(obj)}\n`);
};

// --- workers ---------------------------------------------------------------------------------

const workers = new Map<Impl, Worker>();
const worker = (impl: Impl): Worker => {
  let w = workers.get(impl);
  if (!w) workers.set(impl, (w = new Worker(impl, { databaseUrl: URL_, cpuProfDir: opts['cpu-prof'], onLog: progress })));
  return w;
};

/** Schemas this run may have created and not yet dropped. */
const liveSchemas = new Set<string>();
const keptSchemas = new Set<string>();

/** Best effort: a clean WAL/checkpoint state before each measurement (needs superuser or pg_checkpoint). */
let canCheckpoint = true;
const checkpoint = async () => {
  if (!canCheckpoint) return;
  try {
    await withClient(URL_, (c) => c.query('checkpoint'));
  } catch (err) {
    canCheckpoint = false;
    progress(`note: cannot CHECKPOINT before measurements (${(err as Error).message}); continuing without`);
  }
};

// --- append ----------------------------------------------------------------------------------

const ALL_APPEND_CONFIGS = [
  { eventsPerCall: 1, concurrency: 1 },
  { eventsPerCall: 1, concurrency: 8 },
  { eventsPerCall: 1, concurrency: 32 },
  { eventsPerCall: 10, concurrency: 8 },
  { eventsPerCall: 10, concurrency: 32 },
] as const;
const configNames = opts.configs.split(',').map((x) => x.trim()).filter(Boolean);
for (const c of configNames)
  if (!ALL_APPEND_CONFIGS.some((a) => `${a.eventsPerCall}x${a.concurrency}` === c)) fail(`unknown append measurement in --configs: ${c}`);
const APPEND_CONFIGS = ALL_APPEND_CONFIGS.filter((a) => configNames.includes(`${a.eventsPerCall}x${a.concurrency}`));

interface AppendRow {
  readonly impl: Impl;
  readonly eventsPerCall: number;
  readonly concurrency: number;
  /** The median round (by events/s); `rounds` holds them all. */
  readonly outcome: AppendOutcome;
  readonly rounds: readonly AppendOutcome[];
}

const median = (outcomes: readonly AppendOutcome[]): AppendOutcome =>
  [...outcomes].sort((a, b) => a.eventsPerSec - b.eventsPerSec)[Math.floor((outcomes.length - 1) / 2)]!;

const medianOf = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * govcase/emmett and govcase/pg taken within each round (the implementations of one round ran minutes
 * apart at most, under the same background load), and their median over the rounds: steadier than the
 * ratio of medians when the machine's load drifts. `cpu` ratios compare CPU per append the other way
 * round (peer ÷ govcase: how many times less CPU govcase spends per append).
 */
const roundRatios = (results: ReadonlyMap<string, readonly AppendOutcome[]>, e: number, c: number) => {
  const of = (impl: Impl) => results.get(`${impl}/${e}/${c}`) ?? [];
  const g = of('govcase');
  const out: { name: string; rounds: number[]; median: number }[] = [];
  for (const peer of ['emmett', 'pg'] as const) {
    const p = of(peer);
    const n = Math.min(g.length, p.length);
    if (n === 0) continue;
    const rounds = Array.from({ length: n }, (_, i) => g[i]!.eventsPerSec / p[i]!.eventsPerSec);
    out.push({ name: `govcase/${peer}`, rounds, median: medianOf(rounds) });
    const cpu = Array.from({ length: n }, (_, i) => (p[i]!.cpuUsPerAppend ?? NaN) / (g[i]!.cpuUsPerAppend ?? NaN)).filter(Number.isFinite);
    if (cpu.length) out.push({ name: `cpu ${peer}/govcase`, rounds: cpu, median: medianOf(cpu) });
  }
  return out;
};

let lastResults: ReadonlyMap<string, readonly AppendOutcome[]> = new Map();

/** CPU the measurement did not cause: other processes plus postgres processes other than its own backends. */
const foreignCores = (o: AppendOutcome): number | null =>
  o.otherCores === null || o.serverCores === null || o.ownBackendCores === null ? null : o.otherCores + Math.max(0, o.serverCores - o.ownBackendCores);

const runAppend = async (): Promise<AppendRow[]> => {
  const results = new Map<string, AppendOutcome[]>();
  lastResults = results;
  const total = APPEND_CONFIGS.length * SELECTED.length;
  progress(`append: ${total} measurements × ${ROUNDS} round(s) of ${WARMUP} s warm-up + ${SECONDS} s, implementations ${SELECTED.join(', ')}`);
  // rounds outermost, implementations innermost: slow drifts of the machine spread over all of them
  for (let round = 1; round <= ROUNDS; round++) {
    // the order of the implementations rotates from round to round, so none always goes first
    const order = SELECTED.map((_, i) => SELECTED[(i + round - 1) % SELECTED.length]!);
    for (const cfg of APPEND_CONFIGS) {
      for (const impl of order) {
        const schema = `bench_${impl}_a${cfg.eventsPerCall}x${cfg.concurrency}`;
        if (interrupted) throw new Error('interrupted');
        await checkpoint();
        progress(`append ${impl}: ${cfg.eventsPerCall} event(s)/append, ${cfg.concurrency} writer(s)` +
          `${ROUNDS > 1 ? `, round ${round}/${ROUNDS}` : ''} … (schema ${schema})`);
        liveSchemas.add(schema);
        try {
          const outcome = (await worker(impl).run(
            { kind: 'append', schema, ...cfg, warmupSeconds: WARMUP, seconds: SECONDS },
            (WARMUP + SECONDS) * 1000 + 120_000,
          )) as AppendOutcome;
          const key = `${impl}/${cfg.eventsPerCall}/${cfg.concurrency}`;
          results.set(key, [...(results.get(key) ?? []), outcome]);
          const d = Object.entries(outcome.details).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(1)}`).join(', ');
          progress(`append ${impl}: ${fmtInt(outcome.eventsPerSec)} events/s (${fmtInt(outcome.appendsPerSec)} appends/s, ` +
            `mean ${fmtNum(outcome.meanMs, 2)} ms, p99 ${fmtNum(outcome.p99Ms, 2)} ms, cores: client ${fmtNum(outcome.clientCores, 2)}` +
            `${outcome.serverCores === null ? '' : `, postgres ${fmtNum(outcome.serverCores, 2)}`}` +
            `${outcome.otherCores === null ? '' : `, other ${fmtNum(outcome.otherCores, 2)}`}` +
            `${outcome.cpuUsPerAppend === null ? '' : `; CPU ${fmtNum(outcome.cpuUsPerAppend, 0)} µs/append (client + own backends)`}` +
            `; load ${fmtNum(outcome.loadAverage, 2)}${d ? `; ${d}` : ''})`);
          const foreign = foreignCores(outcome) ?? outcome.otherCores ?? 0;
          if (foreign > 0.25)
            progress(`note: other processes (and other clients' postgres backends) used ${fmtNum(foreign, 2)} cores during this measurement: expect noise`);
          if (round === ROUNDS) {
            const m = median(results.get(key)!);
            emit({
              bench: 'append', impl, eventsPerCall: cfg.eventsPerCall, concurrency: cfg.concurrency, eventsPerSec: Math.round(m.eventsPerSec),
              ...(m.cpuUsPerAppend === null ? {} : { cpuUsPerAppend: Math.round(m.cpuUsPerAppend) }),
              ...(foreignCores(m) === null ? {} : { foreignCores: Number(foreignCores(m)!.toFixed(2)) }),
              loadAverage: Number(m.loadAverage.toFixed(2)),
            });
          }
        } finally {
          await dropSchemas(URL_, [schema]);
          liveSchemas.delete(schema);
        }
      }
    }
  }
  for (const cfg of APPEND_CONFIGS) {
    for (const r of roundRatios(results, cfg.eventsPerCall, cfg.concurrency)) {
      emit({ bench: 'append-ratio', ratio: r.name, eventsPerCall: cfg.eventsPerCall, concurrency: cfg.concurrency,
        median: Number(r.median.toFixed(2)), rounds: r.rounds.map((x) => Number(x.toFixed(2))) });
    }
  }
  return APPEND_CONFIGS.flatMap((cfg) => SELECTED.map((impl): AppendRow => {
    const rounds = results.get(`${impl}/${cfg.eventsPerCall}/${cfg.concurrency}`)!;
    return { impl, ...cfg, outcome: median(rounds), rounds };
  }));
};

const printAppend = (rows: readonly AppendRow[]) => {
  if (rows.length === 0) return;
  const get = (impl: Impl, e: number, c: number) => rows.find((r) => r.impl === impl && r.eventsPerCall === e && r.concurrency === c)?.outcome;
  const has = (i: Impl) => SELECTED.includes(i);
  out();
  out(`Append throughput, events/s — ${SECONDS} s measured after ${WARMUP} s warm-up, fresh schema per measurement` +
    `${ROUNDS > 1 ? `; median of ${ROUNDS} rounds` : ''}`);
  out(`(writers append to streams of their own, ${APPENDS_PER_STREAM} appends per stream)`);
  out();
  const cols = [
    { title: 'events/append' }, { title: 'writers' },
    ...SELECTED.map((i) => ({ title: i })),
    ...(has('govcase') && has('emmett') ? [{ title: 'govcase/emmett' }] : []),
    ...(has('govcase') && has('pg') ? [{ title: 'govcase/pg' }] : []),
  ];
  out(table(cols, APPEND_CONFIGS.map((c) => {
    const g = get('govcase', c.eventsPerCall, c.concurrency)?.eventsPerSec;
    return [
      String(c.eventsPerCall), String(c.concurrency),
      ...SELECTED.map((i) => fmtInt(get(i, c.eventsPerCall, c.concurrency)?.eventsPerSec ?? NaN)),
      ...(has('govcase') && has('emmett') ? [fmtRatio(g, get('emmett', c.eventsPerCall, c.concurrency)?.eventsPerSec)] : []),
      ...(has('govcase') && has('pg') ? [fmtRatio(g, get('pg', c.eventsPerCall, c.concurrency)?.eventsPerSec)] : []),
    ];
  })));
  if (has('govcase')) {
    const parts: string[] = [];
    for (const e of [1, 10]) {
      const g = get('govcase', e, 32)?.eventsPerSec;
      if (g === undefined) continue;
      const r = [
        ...(has('emmett') ? [`govcase/emmett ${fmtRatio(g, get('emmett', e, 32)?.eventsPerSec)}`] : []),
        ...(has('pg') ? [`govcase/pg ${fmtRatio(g, get('pg', e, 32)?.eventsPerSec)}`] : []),
      ];
      if (r.length) parts.push(`${e}-event appends: ${r.join(', ')}`);
    }
    if (parts.length) out(`\nAt 32 writers — ${parts.join('; ')}`);
  }
  out();
  out('Per measurement: appends/s; latency of one append call (mean, p99); CPU in cores over the measured window —');
  out('client = the worker process, postgres = local postgres processes, other = the rest of the machine (noise);');
  out('own backends = only this implementation\'s connections (by pid); CPU µs/append = (client + own backends) per append,');
  out('which other load on the machine hardly changes; foreign = other + the postgres processes that are not its own backends');
  out('(other people\'s queries, and the WAL writer/checkpointer); load = 1-minute load average at the end of the window;');
  out('appends/tx = appends per transaction (for govcase: the group-commit batch size, whole run).');
  out();
  const cores = (n: number | null) => (n === null ? '–' : fmtNum(n, 2));
  out(table(
    [{ title: 'impl', align: 'left' }, { title: 'ev/app' }, { title: 'writers' }, { title: 'appends/s' }, { title: 'mean ms' },
      { title: 'p99 ms' }, { title: 'client' }, { title: 'postgres' }, { title: 'own backends' }, { title: 'other' },
      { title: 'foreign' }, { title: 'CPU µs/append' }, { title: 'load' }, { title: 'appends/tx' },
      ...(ROUNDS > 1 ? [{ title: 'events/s of each round', align: 'left' as const }] : [])],
    rows.map((r) => [
      r.impl, String(r.eventsPerCall), String(r.concurrency), fmtInt(r.outcome.appendsPerSec), fmtNum(r.outcome.meanMs, 2),
      fmtNum(r.outcome.p99Ms, 2), cores(r.outcome.clientCores), cores(r.outcome.serverCores), cores(r.outcome.ownBackendCores),
      cores(r.outcome.otherCores), cores(foreignCores(r.outcome)),
      r.outcome.cpuUsPerAppend === null ? '–' : fmtInt(r.outcome.cpuUsPerAppend), fmtNum(r.outcome.loadAverage, 2),
      r.impl === 'govcase' ? fmtNum(r.outcome.details.appendsPerTransaction ?? NaN, 1) : '1',
      ...(ROUNDS > 1 ? [r.rounds.map((o) => fmtInt(o.eventsPerSec)).join(' / ')] : []),
    ]),
  ));
  if (has('govcase') && (has('emmett') || has('pg'))) {
    out();
    out('Ratios within each round, and their median (cpu x/govcase: how many times less CPU per append govcase spends):');
    out();
    out(table(
      [{ title: 'events/append' }, { title: 'writers' }, { title: 'ratio', align: 'left' }, { title: 'median' }, { title: 'each round', align: 'left' }],
      APPEND_CONFIGS.flatMap((c) => roundRatios(lastResults, c.eventsPerCall, c.concurrency).map((r) => [
        String(c.eventsPerCall), String(c.concurrency), r.name, `${r.median.toFixed(2)}×`, r.rounds.map((x) => `${x.toFixed(2)}×`).join(' / '),
      ])),
    ));
  }
};

// --- catch-up --------------------------------------------------------------------------------

interface CatchupRow {
  readonly impl: Impl;
  readonly method: CatchupMethod;
  readonly outcome: CatchupOutcome;
}

const CATCHUP_PAGE = 5_000;

const runCatchup = async (): Promise<{ rows: CatchupRow[]; fills: Map<Impl, { reused: boolean; seconds: number }> }> => {
  const plan: { impl: Impl; method: CatchupMethod }[] = [];
  if (SELECTED.includes('govcase')) plan.push({ impl: 'govcase', method: 'readAll' }, { impl: 'govcase', method: 'subscribeToAll' });
  if (SELECTED.includes('emmett')) plan.push({ impl: 'emmett', method: 'readMessagesBatch' });
  if (plan.length === 0) {
    progress('catchup: nothing to do (only govcase and emmett have a catch-up benchmark)');
    return { rows: [], fills: new Map() };
  }
  const logImpls = [...new Set(plan.map((p) => p.impl))];
  const fills = new Map<Impl, { reused: boolean; seconds: number }>();
  const fillTimeout = 120_000 + (EVENTS / 300) * 1000;
  for (const impl of logImpls) {
    const schema = `bench_${impl}_log`;
    if (!opts.keep) liveSchemas.add(schema);
    else keptSchemas.add(schema);
    progress(`catchup ${impl}: filling (or reusing) a log of ${fmtInt(EVENTS)} events in ${schema}`);
    const f = await worker(impl).run({ kind: 'fill', schema, events: EVENTS }, fillTimeout);
    if (f.kind !== 'fill') throw new Error('unexpected outcome');
    fills.set(impl, { reused: f.reused, seconds: f.seconds });
    progress(f.reused ? `catchup ${impl}: reusing the existing log` : `catchup ${impl}: filled in ${fmtNum(f.seconds)} s (${fmtInt(EVENTS / f.seconds)} events/s)`);
  }
  const rows: CatchupRow[] = [];
  const warmed = new Set<Impl>();
  const readTimeout = 60_000 + (EVENTS / 1_000) * 1000;
  for (const { impl, method } of plan) {
    if (interrupted) throw new Error('interrupted');
    await checkpoint();
    const warmup = !warmed.has(impl);
    warmed.add(impl);
    progress(`catchup ${impl}: ${method}, pages of ${fmtInt(CATCHUP_PAGE)}${warmup ? ' (after one untimed warm-up read)' : ''} …`);
    const o = (await worker(impl).run(
      { kind: 'catchup', schema: `bench_${impl}_log`, method, pageSize: CATCHUP_PAGE, expected: EVENTS, warmup, timeoutMs: readTimeout },
      readTimeout * 2 + 30_000,
    )) as CatchupOutcome;
    rows.push({ impl, method, outcome: o });
    progress(`catchup ${impl} ${method}: ${fmtInt(o.events)} events in ${fmtNum(o.seconds, 2)} s = ${fmtInt(o.eventsPerSec)} events/s (${o.pages} pages)`);
    emit({ bench: 'catchup', impl: `${impl}:${method}`, events: o.events, eventsPerSec: Math.round(o.eventsPerSec) });
  }
  return { rows, fills };
};

const printCatchup = (rows: readonly CatchupRow[]) => {
  if (rows.length === 0) return;
  out();
  out(`Catch-up read of the whole log (${fmtInt(EVENTS)} events), pages of ${fmtInt(CATCHUP_PAGE)}`);
  out();
  const what: Record<CatchupMethod, string> = {
    readAll: 'store.readAll({ after, limit: 5000 }) until hasMore is false',
    subscribeToAll: 'store.subscribeToAll({ batchSize: 5000 }) until every event has arrived',
    readMessagesBatch: 'readMessagesBatch(execute, { after, batchSize: 5000 }) (its global read)',
  };
  out(table(
    [{ title: 'impl', align: 'left' }, { title: 'read', align: 'left' }, { title: 'events' }, { title: 'seconds' }, { title: 'events/s' }],
    rows.map((r) => [r.impl, what[r.method], fmtInt(r.outcome.events), fmtNum(r.outcome.seconds, 2), fmtInt(r.outcome.eventsPerSec)]),
  ));
  const g = rows.find((r) => r.method === 'readAll')?.outcome.eventsPerSec;
  const e = rows.find((r) => r.impl === 'emmett')?.outcome.eventsPerSec;
  if (g !== undefined && e !== undefined) out(`\ngovcase readAll / emmett readMessagesBatch: ${fmtRatio(g, e)}`);
};

// --- main ------------------------------------------------------------------------------------

let cleaning: Promise<void> | null = null;
let interrupted = false;
let lock: { release(): Promise<void> } | null = null;

const cleanup = (): Promise<void> =>
  (cleaning ??= (async () => {
    // after an interrupt, no waiting for the measurement in progress: its connections end with the worker
    await Promise.all([...workers.values()].map((w) => (interrupted ? w.kill() : w.stop()).catch(() => {})));
    const schemas = [...liveSchemas];
    if (schemas.length) {
      progress(`dropping schemas ${schemas.join(', ')}`);
      await dropSchemas(URL_, schemas).catch((err) => progress(`could not drop ${schemas.join(', ')}: ${(err as Error).message}`));
    }
    if (keptSchemas.size) progress(`kept (--keep): ${[...keptSchemas].join(', ')}`);
    await lock?.release();
  })());

const interrupt = (why: string) => {
  if (interrupted) return;
  interrupted = true;
  progress(`${why}: stopping and cleaning up …`);
  // workers ignore SIGINT: stop them, then drop what they made; bounded by the workers' and drops' own limits
  void cleanup().finally(() => process.exit(130));
};
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => interrupt(sig));
// `… --json | head -1`: the reader went away; clean up rather than die on EPIPE
process.stdout.on('error', (err: NodeJS.ErrnoException) => interrupt(`stdout ${err.code ?? err.message}`));

const main = async () => {
  const started = Date.now();
  const redacted = URL_.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  const serverVersion = await withClient(URL_, async (c) => (await c.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]!.v);
  progress(`database ${redacted} (PostgreSQL ${serverVersion}); client ${cpus().length} CPU(s) ${cpus()[0]?.model.trim() ?? ''}, ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  lock = await acquireRunLock(URL_);
  const idle = await backgroundLoad(2_000);
  if (idle) {
    progress(`background load before starting: ${fmtNum(idle.machineCores, 2)} of ${cpus().length} cores busy ` +
      `(local postgres ${fmtNum(idle.postgresCores, 2)})`);
    if (idle.machineCores > 0.25) progress('note: the machine is not idle; the figures will be low and noisy (consider --rounds 3)');
  }
  let appendRows: AppendRow[] = [];
  let catchupRows: CatchupRow[] = [];
  try {
    // the workers start (and load their modules) while the first measurement is being set up
    const needed = new Set<Impl>();
    if (sub !== 'catchup') SELECTED.forEach((i) => needed.add(i));
    if (sub !== 'append') SELECTED.filter((i) => i !== 'pg').forEach((i) => needed.add(i));
    await Promise.all([...needed].map((i) => worker(i).ready));
    if (sub !== 'catchup') appendRows = await runAppend();
    if (sub !== 'append') catchupRows = (await runCatchup()).rows;
  } finally {
    if (!interrupted) await cleanup();
  }
  if (interrupted) return;
  printAppend(appendRows);
  printCatchup(catchupRows);
  progress(`done in ${fmtNum((Date.now() - started) / 1000, 0)} s`);
};

main().then(
  () => process.exit(interrupted ? 130 : 0),
  async (err) => {
    if (interrupted) return;
    console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await cleanup();
    process.exit(1);
  },
);
