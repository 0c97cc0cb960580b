/**
 * Verification speed over 1,000,000 events: `npx tsx bench/verify.ts [--events N] [--fresh] [--keep]`.
 * Seeds (once; reused while the schema `bench_verify` holds N events) 100,000 case streams of 10
 * events each with realistic data and correct SM3 chains, in bulk INSERTs of 10,000 rows; then
 * times a first signed checkpoint over the whole log (heads of every stream: one SQL) and a full
 * `verify` (chain walk + checkpoint), and prints events/s; between the two, a periodic checkpoint after 500
 * new streams (its time, and the heap it took: run with `node --expose-gc --import tsx` for a clean
 * baseline). `--keep` leaves the schema for the next run.
 */
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { systemClock } from '../application/ports.ts';
import { eventHash } from '../domain/integrity.ts';
import { createIntegrity } from '../infrastructure/integrity/index.ts';
import { generateSigningKey } from '../infrastructure/integrity/sm2.ts';
import { getPostgresEventStore } from '../infrastructure/postgres/eventStore.ts';
import { migrate } from '../infrastructure/postgres/migrate.ts';
import { createPool, ensureSchema } from '../infrastructure/postgres/pool.ts';
import { countRows, databaseUrl, dropSchemas } from './db.ts';

const { values } = parseArgs({ options: { events: { type: 'string' }, fresh: { type: 'boolean' }, keep: { type: 'boolean' }, json: { type: 'boolean' } } });
const total = Number(values.events ?? 1_000_000);
const PER_STREAM = 10;
const BATCH = 10_000;
const SCHEMA = 'bench_verify';
const url = databaseUrl();
const say = (m: string) => process.stderr.write(`bench/verify: ${m}\n`);

if (values.fresh) await dropSchemas(url, [SCHEMA]);
const existing = await countRows(url, SCHEMA, 'events');
if (existing !== null && existing !== total && existing !== 0) await dropSchemas(url, [SCHEMA]);
await ensureSchema(url, SCHEMA);
const pool = createPool({ connectionString: url, schema: SCHEMA, max: 4, statementTimeoutMillis: 600_000 });
await migrate(pool);
const have = Number((await pool.query<{ n: string }>('select count(*)::text as n from events')).rows[0]!.n);

if (have !== total) {
  await pool.query('truncate streams, commands');
  const t0 = performance.now();
  const types = ['CaseSubmitted', 'CaseAccepted', 'ReviewStepCompleted', 'ReviewStepCompleted', 'ReviewStepCompleted', 'CaseDecided', 'ResultDelivered', 'CaseEvaluated', 'SupervisionNoticeIssued', 'SupervisionNoticeAnswered'];
  let prev = new Map<string, string>();
  for (let start = 0; start < total; start += BATCH) {
    const sIds: string[] = [], revs: number[] = [], ids: string[] = [], tys: string[] = [], data: string[] = [], meta: string[] = [], hashes: string[] = [], prevs: (string | null)[] = [];
    for (let i = start; i < Math.min(start + BATCH, total); i++) {
      // events interleaved across streams, as a real log is: stream = i mod streams
      const streams = total / PER_STREAM;
      const s = i % streams;
      const revision = Math.floor(i / streams);
      const streamId = `case-${String(s).padStart(8, '0')}-0000-4000-8000-000000000000`;
      const e = {
        streamId, revision, type: types[revision % types.length]!,
        data: { caseId: streamId.slice(5), step: revision, opinion: '材料齐全，符合法定形式', departmentCode: '11520102MB1234567X', at: '2026-09-01' },
        metadata: { actorId: `clerk-${s % 97}`, actorRole: 'clerk', departmentCode: '11520102MB1234567X', correlationId: randomUUID(), clientApp: 'window', sourceAddress: '10.1.2.3', occurredAt: '2026-09-01T09:00:00.000Z' },
      };
      const p = prev.get(streamId) ?? null;
      const hash = eventHash(p, e);
      prev.set(streamId, hash);
      sIds.push(streamId); revs.push(revision); ids.push(randomUUID()); tys.push(e.type);
      data.push(JSON.stringify(e.data)); meta.push(JSON.stringify(e.metadata)); hashes.push(hash); prevs.push(p);
    }
    await pool.query(
      `insert into events (stream_id, revision, event_id, type, data, metadata, hash, previous_hash)
       select * from unnest($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[], $7::text[], $8::text[])`,
      [sIds, revs, ids, tys, data, meta, hashes, prevs]);
    if ((start / BATCH) % 10 === 0) say(`seeded ${(start + BATCH).toLocaleString('en')} events`);
  }
  prev = new Map();
  say(`seeded ${total.toLocaleString('en')} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await pool.query('analyze events');
} else say(`reusing ${have.toLocaleString('en')} events in ${SCHEMA}`);

// a clean slate of checkpoints each run (the events stay): the system stream is the bench's own
// (and so are the streams a periodic checkpoint sees move, below); undone again at the end, so that
// a kept schema holds exactly the seeded events
const cleanSlate = async () => {
  await pool.query('alter table events disable trigger user');
  await pool.query(`delete from events where stream_id = 'system-integrity-checkpoints' or stream_id like 'bench-moved-%'`);
  await pool.query('alter table events enable trigger user');
  await pool.query(`delete from streams where stream_id = 'system-integrity-checkpoints' or stream_id like 'bench-moved-%'`);
  await pool.query('delete from integrity_heads');
};
await cleanSlate();

const store = getPostgresEventStore({ pool, connectionString: url, schema: SCHEMA });
const integrity = createIntegrity({ pool, store, signingKey: generateSigningKey(), clock: systemClock });
let t = performance.now();
const cp = (await integrity.checkpointer.create())!;
const checkpointSeconds = (performance.now() - t) / 1000;
say(`first checkpoint over the whole log: ${cp.streams.toLocaleString('en')} streams in ${checkpointSeconds.toFixed(2)} s`);

// a periodic checkpoint: 500 new streams since the last one; every stored head is read back (the
// signed root is re-derived and the new one computed in one pass), only the moved ones held in memory
const MOVED = 500;
await Promise.all(Array.from({ length: MOVED }, (_, i) => store.appendToStream(`bench-moved-${i}`,
  [{ type: 'Noted', data: { i }, metadata: { actorId: 'bench', actorRole: 'system', occurredAt: new Date().toISOString() } }], { expectedVersion: 'no_stream' })));
for (const until = Date.now() + 30_000; Date.now() < until;) {
  const head = await store.headPosition();
  const newest = (await pool.query<{ p: string }>(`select tx_id::text || ':' || position as p from events order by tx_id desc, position desc limit 1`)).rows[0]!.p;
  if (head && store.comparePositions(head, newest) >= 0) break;
  await new Promise((r) => setTimeout(r, 20));
}
global.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
let heapPeak = heapBefore;
const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 5);
t = performance.now();
const next = (await integrity.checkpointer.create({ onlyIfMoved: true }))!;
const nextSeconds = (performance.now() - t) / 1000;
clearInterval(sampler);
say(`next checkpoint (${next.changes.length} streams moved, ${next.streams.toLocaleString('en')} in all): ${nextSeconds.toFixed(2)} s, heap +${((heapPeak - heapBefore) / 1e6).toFixed(1)} MB at most (sampled every 5 ms)`);

t = performance.now();
let lastSay = 0;
const report = await integrity.verify({
  onProgress: (p) => {
    if (p.seconds - lastSay >= 5) {
      lastSay = p.seconds;
      say(`  ${p.events.toLocaleString('en')} events, ${p.eventsPerSec.toLocaleString('en')} events/s`);
    }
  },
});
const verifySeconds = (performance.now() - t) / 1000;
const result = {
  bench: 'verify', events: report.eventsChecked, streams: report.streamsChecked, ok: report.ok,
  verifySeconds: Number(verifySeconds.toFixed(2)), eventsPerSec: Math.round(report.eventsChecked / verifySeconds),
  firstCheckpointSeconds: Number(checkpointSeconds.toFixed(2)),
  nextCheckpointSeconds: Number(nextSeconds.toFixed(2)), nextCheckpointStreamsMoved: next.changes.length,
};
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else process.stdout.write(`verify: ${result.events.toLocaleString('en')} events in ${result.streams.toLocaleString('en')} streams, ${result.verifySeconds} s, ${result.eventsPerSec.toLocaleString('en')} events/s (ok: ${result.ok}); first checkpoint over the whole log ${result.firstCheckpointSeconds} s, next one (${MOVED} moved) ${result.nextCheckpointSeconds} s\n`);
await store.close();
await cleanSlate();
await pool.end();
if (!values.keep) await dropSchemas(url, [SCHEMA]);
