import http from 'node:http';
import { cpus, loadavg } from 'node:os';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { sm2 } from 'sm-crypto-v2';
import { createDispatcher } from '../infrastructure/exchange/dispatcher.ts';
import { createExchangeDbAdapter } from '../infrastructure/exchange/exchangeDb.ts';
import { createHaochapingAdapter } from '../infrastructure/exchange/haochaping.ts';
import { plainOnly } from '../infrastructure/exchange/payloads.ts';
import { getPostgresEventStore } from '../infrastructure/postgres/eventStore.ts';
import { migrate } from '../infrastructure/postgres/migrate.ts';
import { createPool } from '../infrastructure/postgres/pool.ts';
import { createExchangeOutboxProjection } from '../projections/exchange/outboxProjection.ts';
import { createProjectionRunner } from '../projections/runner.ts';
import { databaseUrl, dropSchemas, recreateSchema } from './db.ts';
import { fmtInt, fmtNum } from './report.ts';
import { buildCatalog, createCaseFactory, createRng, fillCases, publishCatalog, regroup } from './readside/syntheticCases.ts';

/**
 * National exchange throughput and lag: `npx tsx bench/exchange.ts [--cases 10000] [--rate 200] [--seconds 30]`.
 *
 * 1. Fills schema bench_exchange with synthetic case lifecycles (the read-side generator, through the
 *    decider), runs the outbox projection over them, then drains the backlog — first to MariaDB (the
 *    up_pro_* tables, database `bench_exchange`), then to a local HTTP receiver (a minimal 好差评 hub in
 *    this process, answering 200 without verifying, so the figure is the sender's) — and prints records/s.
 * 2. Steady load: whole case lifecycles appended at `--rate` cases/s for `--seconds`, the runner and
 *    the dispatcher (both targets) running; delivery lag = delivered_at − the event's recorded_at
 *    (both PostgreSQL clock), p50/p99/max over the rows of the measured window.
 * MariaDB at EXCHANGE_BENCH_MYSQL (default mysql://root@127.0.0.1:3306).
 */
const USAGE = `usage: npx tsx bench/exchange.ts [--cases N] [--rate N] [--seconds N] [--batch N] [--keep]`;

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' }, rate: { type: 'string', default: '200' }, seconds: { type: 'string', default: '30' },
    batch: { type: 'string', default: '500' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) { process.stdout.write(`${USAGE}\n`); process.exit(0); }
const CASES = Number(values.cases);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const BATCH = Number(values.batch);
const SCHEMA = 'bench_exchange';
const MYSQL = process.env.EXCHANGE_BENCH_MYSQL ?? 'mysql://root@127.0.0.1:3306';
const say = (m: string) => process.stderr.write(`${m}\n`);

const url = databaseUrl();
await recreateSchema(url, SCHEMA);
const admin = await mysql.createConnection({ uri: MYSQL });
await admin.query(`drop database if exists ${SCHEMA}`);
await admin.query(`create database ${SCHEMA} character set utf8mb4`);
const pool = createPool({ connectionString: url, schema: SCHEMA, max: 10 });
await migrate(pool);
const store = getPostgresEventStore({ pool, connectionString: url, schema: SCHEMA });

// a minimal hub
let hubReceived = 0;
const hub = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { hubReceived++; res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"code":"200","msg":"成功"}'); });
});
hub.keepAliveTimeout = 60_000;
await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
const hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}/push`;
const keys = sm2.generateKeyPairHex();

const pending = async (target: string) =>
  Number((await pool.query<{ n: string }>(`select count(*) as n from exchange_outbox where target = $1 and status = 'pending'`, [target])).rows[0]!.n);

try {
  // ---- 1. the backlog ----
  const rng = createRng(11);
  const catalog = buildCatalog();
  await publishCatalog(store, catalog);
  // about 7.8 events per case in this generator: aim for CASES cases
  let t = performance.now();
  const fill = await fillCases({ store, catalog, rng, targetEvents: CASES * 7.8, writers: 8, window: 400, onProgress: (done, cases) => { if (done % 10_000 < 5) say(`  filled ${fmtInt(done)} events, ${fmtInt(cases)} cases`); } });
  say(`filled ${fmtInt(fill.events)} events of ${fmtInt(fill.cases)} cases in ${fmtNum((performance.now() - t) / 1000)} s`);

  t = performance.now();
  const runner = createProjectionRunner({ pool, store, connectionString: url, schema: SCHEMA, batchSize: 2_000, projections: [createExchangeOutboxProjection({ targets: ['exchange_db', 'haochaping'] })] });
  runner.start();
  const head = await store.headPosition();
  await runner.waitFor('exchange-outbox', async () => (await runner.status())[0]!.lag === 0, 600_000);
  void head;
  const rows = await pool.query<{ target: string; n: string }>('select target, count(*) as n from exchange_outbox group by 1 order by 1');
  const outboxSecs = (performance.now() - t) / 1000;
  say(`outbox: ${rows.rows.map((r) => `${r.target} ${fmtInt(Number(r.n))}`).join(', ')} rows in ${fmtNum(outboxSecs)} s`);
  const total = Object.fromEntries(rows.rows.map((r) => [r.target, Number(r.n)]));

  const drain = async (target: 'exchange_db' | 'haochaping') => {
    const adapter = target === 'exchange_db'
      ? createExchangeDbAdapter({ url: `${MYSQL}/${SCHEMA}` })
      : createHaochapingAdapter({ url: hubUrl, signingKey: keys.privateKey, concurrency: 32 });
    const d = createDispatcher({ connectionString: url, schema: SCHEMA, store, adapters: [adapter], openApplicant: plainOnly, batchSize: BATCH, idleMs: 20 });
    const start = performance.now();
    d.start();
    let last = 0;
    for (;;) {
      const left = await pending(target);
      if (left === 0) break;
      if (performance.now() - last > 5_000) { last = performance.now(); say(`  ${target}: ${fmtInt(left)} pending`); }
      await new Promise((r) => setTimeout(r, 200));
    }
    const secs = (performance.now() - start) / 1000;
    await d.stop();
    return { secs, rate: (total[target] ?? 0) / secs };
  };
  const toDb = await drain('exchange_db');
  const toHub = await drain('haochaping');
  const hubRequestsInDrain = hubReceived;
  const dbRows = await mysql.createConnection({ uri: `${MYSQL}/${SCHEMA}` }).then(async (c) => {
    const [r] = await c.query('select (select count(*) from up_pro_accept) a, (select count(*) from up_pro_process) p, (select count(*) from up_pro_result) r');
    await c.end();
    return (r as Record<string, number>[])[0]!;
  });

  // ---- 2. steady load ----
  const d = createDispatcher({
    connectionString: url, schema: SCHEMA, store, openApplicant: plainOnly, batchSize: BATCH, idleMs: 20,
    adapters: [createExchangeDbAdapter({ url: `${MYSQL}/${SCHEMA}` }), createHaochapingAdapter({ url: hubUrl, signingKey: keys.privateKey, concurrency: 32 })],
  });
  d.start();
  const factory = createCaseFactory(createRng(99), catalog);
  const windowStart = new Date();
  const began = performance.now();
  let appended = 0;
  let behind = 0;
  const inflight = new Set<Promise<unknown>>();
  for (let i = 0; i < RATE * SECONDS; i++) {
    const due = began + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else behind++;
    const c = regroup(factory.next(1), 1_000);
    const p = store.appendToStream(c.streamId, c.groups[0]!, { expectedVersion: 'no_stream' }).then(() => { appended++; });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    while (inflight.size > 64) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  const offeredSecs = (performance.now() - began) / 1000;
  // let it drain, then measure
  for (let k = 0; k < 600; k++) {
    if ((await pending('exchange_db')) + (await pending('haochaping')) === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await d.stop();
  await runner.stop();
  const lag = await pool.query<{ target: string; n: string; p50: number; p99: number; max: number; undelivered: string }>(
    `select target, count(*) as n,
            percentile_cont(0.5) within group (order by extract(epoch from delivered_at - event_at)) as p50,
            percentile_cont(0.99) within group (order by extract(epoch from delivered_at - event_at)) as p99,
            max(extract(epoch from delivered_at - event_at)) as max,
            count(*) filter (where status <> 'delivered') as undelivered
       from exchange_outbox where event_at >= $1 group by 1 order by 1`,
    [windowStart],
  );

  const out = [
    `national exchange benchmark (${new Date().toISOString()}; ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; PostgreSQL ${url.replace(/\/\/[^@]*@/, '//')}, MariaDB ${MYSQL})`,
    `backlog: ${fmtInt(fill.cases)} cases, ${fmtInt(fill.events)} events → outbox ${fmtInt(total.exchange_db ?? 0)} exchange_db + ${fmtInt(total.haochaping ?? 0)} haochaping rows (projection ${fmtNum(outboxSecs)} s)`,
    `  to MariaDB (up_pro_*):   ${fmtInt(total.exchange_db ?? 0)} records in ${fmtNum(toDb.secs)} s = ${fmtInt(toDb.rate)} records/s (accept ${dbRows.a}, process ${dbRows.p}, result ${dbRows.r} rows)`,
    `  to the HTTP receiver:    ${fmtInt(total.haochaping ?? 0)} records in ${fmtNum(toHub.secs)} s = ${fmtInt(toHub.rate)} records/s (SM2-signed; the receiver got ${fmtInt(hubRequestsInDrain)} requests)`,
    `steady load: ${fmtInt(appended)} cases at ${RATE}/s offered over ${fmtNum(offeredSecs)} s (${behind} appends started late), batch ${BATCH}`,
    ...lag.rows.map((r) => `  ${r.target.padEnd(11)} ${fmtInt(Number(r.n))} records, lag p50 ${fmtNum(r.p50 * 1000, 0)} ms, p99 ${fmtNum(r.p99 * 1000, 0)} ms, max ${fmtNum(r.max * 1000, 0)} ms, undelivered ${r.undelivered}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  await store.close().catch(() => {});
  await pool.end().catch(() => {});
  hub.close();
  if (!values.keep) {
    await dropSchemas(url, [SCHEMA]).catch(() => {});
    await admin.query(`drop database if exists ${SCHEMA}`).catch(() => {});
  }
  await admin.end();
}
