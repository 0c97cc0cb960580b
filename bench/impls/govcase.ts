import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { EventStore, StreamHead } from '../../application/eventStore.ts';
import { getPostgresEventStore } from '../../infrastructure/postgres/eventStore.ts';
import { migrate } from '../../infrastructure/postgres/migrate.ts';
import { createPool } from '../../infrastructure/postgres/pool.ts';
import { countRows, dropSchemas, recreateSchema, schemaExists } from '../db.ts';
import { runTag, timeCatchup, toAppendOutcome, withTimeout, type ImplBench, type ImplContext } from '../impl.ts';
import { backendPids, fillLog, ownBackendCores, runAppendLoad, type AppendFn } from '../workload.ts';

/**
 * Our store, as the application uses it (infrastructure/runtime.ts): createPool (20 connections, the
 * DATABASE_POOL_SIZE default), migrate, getPostgresEventStore with its default group commit
 * (maxInFlight 2). Every append: SM3 hash chain, a fresh commandId (idempotency on), expectedVersion
 * 'no_stream' for a new stream, else the known version with the head from the previous append —
 * as application/cases.ts passes the head it folded. BENCH_MAX_IN_FLIGHT=N overrides the group
 * commit's batches in flight (for experiments; 3 and 4 were not better here, see docs/benchmarks.md).
 */
const POOL_SIZE = 20;
/** This worker's connections, so its backends' CPU can be told apart from everyone else's. */
const APP_NAME = `govcase-bench-govcase-${process.pid}`;

const open = async (url: string, schema: string, fresh: boolean) => {
  if (fresh) await recreateSchema(url, schema);
  else if (!(await schemaExists(url, schema))) await recreateSchema(url, schema);
  const pool = createPool({ connectionString: url, schema, max: POOL_SIZE, applicationName: APP_NAME });
  await migrate(pool);
  const store = getPostgresEventStore({ pool, connectionString: url, schema, ...(process.env.BENCH_MAX_IN_FLIGHT ? { maxInFlight: Number(process.env.BENCH_MAX_IN_FLIGHT) } : {}) });
  return {
    pool,
    store,
    async close() {
      await store.close();
      await pool.end();
    },
  };
};

const appender = (store: EventStore, writers: number): AppendFn => {
  const heads: (StreamHead | null)[] = new Array<StreamHead | null>(writers).fill(null);
  return async (w, streamId, version, events) => {
    const fresh = version === 0;
    const result = await store.appendToStream(streamId, events, {
      expectedVersion: fresh ? 'no_stream' : version - 1,
      head: fresh ? null : heads[w]!,
      commandId: randomUUID(),
    });
    const last = result.events[result.events.length - 1]!;
    heads[w] = { version: last.revision, hash: last.hash };
  };
};

/** Transactions (= group-commit batches) and appends in the schema so far: the batching we got. */
const batching = async (pool: pg.Pool) => {
  const res = await pool.query<{ txs: string; commands: string; events: string }>(
    `select (select count(distinct tx_id) from events)::text as txs, (select count(*) from commands)::text as commands,
            (select count(*) from events)::text as events`,
  );
  const r = res.rows[0]!;
  const txs = Number(r.txs), commands = Number(r.commands);
  return { transactions: txs, appends: commands, events: Number(r.events), appendsPerTransaction: txs ? commands / txs : 0 };
};

export const createGovcaseBench = (ctx: ImplContext): ImplBench => ({
  async append(task) {
    const db = await open(ctx.url, task.schema, true);
    try {
      const load = await runAppendLoad({
        append: appender(db.store, task.concurrency),
        concurrency: task.concurrency,
        eventsPerCall: task.eventsPerCall,
        warmupSeconds: task.warmupSeconds,
        seconds: task.seconds,
        streamPrefix: runTag(),
      });
      const own = ownBackendCores(load, await backendPids((t, v) => db.pool.query(t, v), APP_NAME));
      const b = await batching(db.pool);
      return toAppendOutcome(load, { transactions: b.transactions, appendsPerTransaction: b.appendsPerTransaction }, own);
    } finally {
      await db.close();
    }
  },

  async fill(task) {
    const t0 = performance.now();
    let have = await countRows(ctx.url, task.schema, 'events');
    if (have !== null && have > task.events) {
      ctx.log(`govcase log ${task.schema} has ${have} events, more than ${task.events}: refilling`);
      await dropSchemas(ctx.url, [task.schema]);
      have = null;
    }
    if (have === task.events) return { kind: 'fill', events: have, reused: true, seconds: 0 };
    const db = await open(ctx.url, task.schema, have === null);
    try {
      const missing = task.events - (have ?? 0);
      ctx.log(`govcase: appending ${missing} events to ${task.schema}${have ? ` (has ${have})` : ''}`);
      await fillLog({
        append: appender(db.store, 32),
        total: missing,
        streamPrefix: runTag(),
        progress: (n) => ctx.log(`govcase: ${n}/${missing} events appended`),
      });
      const b = await batching(db.pool);
      ctx.log(`govcase: log filled: ${b.events} events in ${b.transactions} transactions`);
      return { kind: 'fill', events: b.events, reused: false, seconds: (performance.now() - t0) / 1000 };
    } finally {
      await db.close();
    }
  },

  async catchup(task) {
    const db = await open(ctx.url, task.schema, false);
    try {
      const read = async () => {
        let events = 0, pages = 0;
        if (task.method === 'readAll') {
          let after: string | null = null;
          for (;;) {
            const page = await db.store.readAll({ after, limit: task.pageSize });
            events += page.events.length;
            pages++;
            after = page.lastPosition;
            if (!page.hasMore) break;
          }
        } else if (task.method === 'subscribeToAll') {
          // live after the catch-up: stop at the head, i.e. once every event of the log has arrived
          const ac = new AbortController();
          const timer = setTimeout(() => ac.abort(), task.timeoutMs);
          try {
            for await (const page of db.store.subscribeToAll({ batchSize: task.pageSize, signal: ac.signal })) {
              events += page.length;
              pages++;
              if (events >= task.expected) break;
            }
          } finally {
            clearTimeout(timer);
          }
          if (events < task.expected) throw new Error(`subscribeToAll stopped at ${events} of ${task.expected} events (timeout)`);
        } else {
          throw new Error(`govcase has no catch-up method ${task.method}`);
        }
        return { events, pages };
      };
      return await withTimeout(timeCatchup(task, read), task.timeoutMs * (task.warmup ? 2 : 1), `govcase ${task.method}`);
    } finally {
      await db.close();
    }
  },
});
