import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { getPostgreSQLEventStore, readMessagesBatch, type PostgresEventStore } from '@event-driven-io/emmett-postgresql';
import { countRows, dropSchemas, recreateSchema, SCHEMA_PREFIX, schemaExists, schemasWithFunction, withClient } from '../db.ts';
import { runTag, timeCatchup, toAppendOutcome, withTimeout, type ImplBench, type ImplContext } from '../impl.ts';
import { backendPids, fillLog, ownBackendCores, runAppendLoad, type AppendFn } from '../workload.ts';

/**
 * Emmett 0.42 (`@event-driven-io/emmett-postgresql`) on the same database, in a schema of its own:
 * a pg.Pool of `concurrency` connections whose search_path is that schema, handed to
 * getPostgreSQLEventStore as `connectionOptions.pool`; schema created by `store.schema.migrate()`
 * (autoMigration 'None', so no append pays for the check); `store.close()` then `pool.end()`.
 * Appends pass an explicit bigint `expectedStreamVersion` (0n for a new stream: in 0.42 the
 * STREAM_DOES_NOT_EXIST check is not enforced).
 *
 * Emmett creates its functions only `IF NOT EXISTS (SELECT 1 FROM pg_proc WHERE proname = …)`,
 * a check across all schemas: with its functions in another schema it would create none in ours.
 * So one Emmett schema exists at a time; leftovers of our own (bench_emmett_*) are dropped first.
 */
type EmmettEvent = Parameters<PostgresEventStore['appendToStream']>[1][number];
type Executor = Parameters<typeof readMessagesBatch>[0];

/** The names of this benchmark's Emmett schemas (bench_emmett_a1x8, bench_emmett_log, …). */
const EMMETT_PREFIX = `${SCHEMA_PREFIX}emmett_`;
/** This worker's connections, so its backends' CPU can be told apart from everyone else's. */
const APP_NAME = `govcase-bench-emmett-${process.pid}`;

const ensureNoOtherEmmett = async (ctx: ImplContext, schema: string) => {
  const others = await schemasWithFunction(ctx.url, 'emt_append_to_stream', schema);
  const ours = others.filter((s) => s.startsWith(EMMETT_PREFIX));
  const foreign = others.filter((s) => !s.startsWith(EMMETT_PREFIX));
  if (foreign.length > 0)
    throw new Error(`Emmett is already installed in schema(s) ${foreign.join(', ')} of this database; Emmett 0.42 would then ` +
      'create no functions in the benchmark schema. Use a database without it (DATABASE_URL).');
  if (ours.length > 0) {
    ctx.log(`emmett: dropping leftover benchmark schema(s) ${ours.join(', ')} (only one Emmett schema can exist at a time)`);
    await dropSchemas(ctx.url, ours);
  }
};

const open = async (ctx: ImplContext, schema: string, connections: number, fresh: boolean) => {
  await ensureNoOtherEmmett(ctx, schema);
  if (fresh || !(await schemaExists(ctx.url, schema))) await recreateSchema(ctx.url, schema);
  const pool = new pg.Pool({
    connectionString: ctx.url,
    max: connections,
    application_name: APP_NAME,
    options: `-c search_path=${schema}`,
  });
  pool.on('error', () => {});
  const store = getPostgreSQLEventStore(ctx.url, { connectionOptions: { pool }, schema: { autoMigration: 'None' } });
  await store.schema.migrate();
  const installed = await withClient(ctx.url, async (c) =>
    (await c.query(`select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                     where p.proname = 'emt_append_to_stream' and n.nspname = $1`, [schema])).rowCount === 1);
  if (!installed) throw new Error(`emmett: schema ${schema} has no emt_append_to_stream after migrate()`);
  return {
    pool,
    store,
    async close() {
      await store.close();
      await pool.end();
    },
  };
};

const appender = (store: PostgresEventStore): AppendFn => async (_w, streamId, version, events) => {
  await store.appendToStream(streamId, events as unknown as EmmettEvent[], { expectedStreamVersion: BigInt(version) });
};

export const createEmmettBench = (ctx: ImplContext): ImplBench => ({
  async append(task) {
    const db = await open(ctx, task.schema, task.concurrency, true);
    try {
      const load = await runAppendLoad({
        append: appender(db.store),
        concurrency: task.concurrency,
        eventsPerCall: task.eventsPerCall,
        warmupSeconds: task.warmupSeconds,
        seconds: task.seconds,
        streamPrefix: runTag(),
      });
      const own = ownBackendCores(load, await backendPids((t, v) => db.pool.query(t, v), APP_NAME));
      return toAppendOutcome(load, { connections: task.concurrency }, own);
    } finally {
      await db.close();
    }
  },

  async fill(task) {
    const t0 = performance.now();
    let have = await countRows(ctx.url, task.schema, 'emt_messages');
    if (have !== null && have > task.events) {
      ctx.log(`emmett log ${task.schema} has ${have} events, more than ${task.events}: refilling`);
      await dropSchemas(ctx.url, [task.schema]);
      have = null;
    }
    if (have === task.events) {
      await ensureNoOtherEmmett(ctx, task.schema);
      return { kind: 'fill', events: have, reused: true, seconds: 0 };
    }
    const db = await open(ctx, task.schema, 32, have === null);
    try {
      const missing = task.events - (have ?? 0);
      ctx.log(`emmett: appending ${missing} events to ${task.schema}${have ? ` (has ${have})` : ''}`);
      await fillLog({
        append: appender(db.store),
        total: missing,
        streamPrefix: runTag(),
        progress: (n) => ctx.log(`emmett: ${n}/${missing} events appended`),
      });
      const events = (await countRows(ctx.url, task.schema, 'emt_messages')) ?? 0;
      return { kind: 'fill', events, reused: false, seconds: (performance.now() - t0) / 1000 };
    } finally {
      await db.close();
    }
  },

  /**
   * Emmett's global read: `readMessagesBatch(execute, { after, batchSize })`, the exported function its
   * consumers page the log with (same gap-safe rule: `transaction_id < pg_snapshot_xmin(...)`,
   * ordered by (transaction_id, global_position)). Its consumer loop adds a sleep of
   * `pullingFrequencyInMs` between pages and per-batch checkpoints; this measures the reads alone.
   * `execute` is a minimal SQLExecutor over a pg.Pool (Emmett's own dumbo executor does the same:
   * checkout, one query, release); the store is opened first, so Emmett's row parsers are in force.
   */
  async catchup(task) {
    if (task.method !== 'readMessagesBatch') throw new Error(`emmett has no catch-up method ${task.method}`);
    const db = await open(ctx, task.schema, 4, false);
    const execute = {
      query: (sql: string) => db.pool.query(sql),
      batchQuery: (sqls: string[]) => Promise.all(sqls.map((s) => db.pool.query(s))),
      command: (sql: string) => db.pool.query(sql),
      batchCommand: (sqls: string[]) => Promise.all(sqls.map((s) => db.pool.query(s))),
    } as unknown as Executor;
    try {
      const read = async () => {
        let events = 0, pages = 0;
        let after = 0n;
        for (;;) {
          const batch = await readMessagesBatch(execute, { after, batchSize: task.pageSize });
          events += batch.messages.length;
          pages++;
          after = batch.currentGlobalPosition;
          if (!batch.areMessagesLeft) break;
        }
        return { events, pages };
      };
      let mismatched = false;
      const mismatch = (n: number) => {
        mismatched = true;
        ctx.log(`emmett: WARNING: paging with readMessagesBatch delivered ${n} events; the log holds ${task.expected}`);
      };
      const outcome = await withTimeout(timeCatchup(task, read, mismatch), task.timeoutMs * (task.warmup ? 2 : 1), 'emmett readMessagesBatch');
      if (mismatched) {
        // untimed: which events came twice, which never came
        const seen = new Set<bigint>();
        let delivered = 0;
        let after = 0n;
        for (;;) {
          const batch = await readMessagesBatch(execute, { after, batchSize: task.pageSize });
          for (const m of batch.messages) seen.add(m.metadata.globalPosition);
          delivered += batch.messages.length;
          after = batch.currentGlobalPosition;
          if (!batch.areMessagesLeft) break;
        }
        ctx.log(`emmett: of ${task.expected} events, ${task.expected - seen.size} never delivered and ${delivered - seen.size} delivered ` +
          'twice: its cursor is the last global_position of a page, while pages are ordered by (transaction_id, global_position)');
      }
      return outcome;
    } finally {
      await db.close();
    }
  },
});
