import pg from 'pg';
import { recreateSchema } from '../db.ts';
import { runTag, toAppendOutcome, type ImplBench, type ImplContext } from '../impl.ts';
import { backendPids, ownBackendCores, runAppendLoad, type AppendFn, type BenchEvent } from '../workload.ts';

/**
 * The floor: a bare pg.Pool of `concurrency` connections and, per append, one prepared INSERT of the
 * append's rows (one row for a single-event append, a 10-row VALUES list for a 10-event append) into
 * a plain table with a (stream_id, revision) unique key. Autocommit, no function, no version table,
 * no hash, no idempotency: what any PostgreSQL event store has to pay at least.
 */
const TABLE = `create table events (
  position    bigint generated always as identity primary key,
  stream_id   text not null,
  revision    bigint not null,
  type        text not null,
  data        jsonb not null,
  metadata    jsonb not null,
  recorded_at timestamptz not null default now(),
  constraint events_stream_revision unique (stream_id, revision)
)`;

/** This worker's connections, so its backends' CPU can be told apart from everyone else's. */
const APP_NAME = `govcase-bench-pg-${process.pid}`;

const insertFor = (rows: number): pg.QueryConfig['text'] => {
  const values = Array.from({ length: rows }, (_, i) => {
    const b = i * 5;
    return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}::jsonb, $${b + 5}::jsonb)`;
  });
  return `insert into events (stream_id, revision, type, data, metadata) values ${values.join(', ')}`;
};

export const createPgBench = (ctx: ImplContext): ImplBench => ({
  async append(task) {
    await recreateSchema(ctx.url, task.schema);
    const pool = new pg.Pool({
      connectionString: ctx.url,
      max: task.concurrency,
      application_name: APP_NAME,
      options: `-c search_path=${task.schema}`,
    });
    pool.on('error', () => {});
    try {
      await pool.query(TABLE);
      const name = `bench_insert_${task.eventsPerCall}`;
      const text = insertFor(task.eventsPerCall);
      const append: AppendFn = async (_w, streamId, version, events: readonly BenchEvent[]) => {
        const values: unknown[] = [];
        events.forEach((e, i) => values.push(streamId, version + i, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)));
        await pool.query({ name, text, values });
      };
      const load = await runAppendLoad({
        append,
        concurrency: task.concurrency,
        eventsPerCall: task.eventsPerCall,
        warmupSeconds: task.warmupSeconds,
        seconds: task.seconds,
        streamPrefix: runTag(),
      });
      const own = ownBackendCores(load, await backendPids((t, v) => pool.query(t, v), APP_NAME));
      return toAppendOutcome(load, { connections: task.concurrency }, own);
    } finally {
      await pool.end();
    }
  },
  fill() {
    return Promise.reject(new Error('pg: no catch-up benchmark for the bare baseline'));
  },
  catchup() {
    return Promise.reject(new Error('pg: no catch-up benchmark for the bare baseline'));
  },
});
