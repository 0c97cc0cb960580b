import type pg from 'pg';
import { inTransaction } from '../infrastructure/postgres/pool.ts';
import type { EventPage, EventStore } from '../application/eventStore.ts';
import { tableNames, type Projection, type ReplaySession } from './projection.ts';
import { applyPage, ensureCheckpoint, lockKey, parsePosition } from './runner.ts';

/**
 * Rebuild without downtime: replays the log from position zero into fresh tables (`<table>__rebuild`)
 * while the live ones keep serving, then switches over in one transaction under the projection's
 * lock: the last events are applied, the tables swapped, the checkpoint moved. Interrupted, it
 * resumes from its own checkpoint (`<name>@rebuild`).
 *
 * How it goes fast:
 * - the tables are built bare (primary keys only: `createTables(…, { deferIndexes: true })`) and get
 *   their secondary indexes once the replay has caught up, just before the switch-over, outside any
 *   lock the live runner takes (sorting a finished table beats inserting every row version into
 *   every index);
 * - a projection with a `replay` session (cases) folds many pages in memory and writes a changed row
 *   once per flush (every `maxRows` changed rows, or `maxEvents` events), in the transaction that
 *   moves the rebuild checkpoint, and keeps the rows touched last (the open cases) for the next
 *   stretch; the flush is written while the next stretch is read and folded (the next flush waits for
 *   it to commit); other projections apply page by page;
 * - the next page of the log is read while the current one is folded and written.
 * Crash safety: rows and checkpoint commit together, per page or per flush; a crash loses only the
 * unflushed stretch, which the resume replays from the checkpoint. The rebuild's transactions take the
 * rebuild checkpoint's row lock, not the projection's advisory lock, so the live runner never waits on them.
 */
export interface RebuildProgress {
  readonly projection: string;
  readonly done: number;
  readonly total: number;
  readonly eventsPerSec: number;
  readonly etaSeconds: number | null;
  readonly phase: 'replaying' | 'indexing' | 'switching' | 'done' | 'interrupted';
}

export interface RebuildOptions {
  readonly pool: pg.Pool;
  readonly store: EventStore;
  readonly projection: Projection;
  readonly schema?: string;
  readonly batchSize?: number;
  /**
   * A replay session is flushed once this many of its rows changed (default 20,000); it holds about
   * twice that at most (the rows being written, the next stretch's, and a quarter more touched last).
   */
  readonly maxRows?: number;
  /** … or once this many events were folded since the last flush (default 200,000). */
  readonly maxEvents?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: RebuildProgress) => void;
  /** Stop before the switch-over (tests compare the rebuilt tables with the live ones). */
  readonly switchOver?: boolean;
  /** Discard an earlier, unfinished rebuild and start again from zero. */
  readonly fresh?: boolean;
}

const SUFFIX = 'rebuild';
const LOCK_CLASS = 0x6763;

export const rebuildCheckpointName = (name: string) => `${name}@${SUFFIX}`;

/**
 * Writes a replay session's rows and moves the rebuild checkpoint, in one transaction; false if the
 * checkpoint is not where we left it. `taken` resolves once the session has taken what it writes.
 */
const flushSession = (
  pool: pg.Pool, schema: string, cpName: string, session: ReplaySession, keep: number, expected: string | null, last: string, events: number,
  taken: () => void,
) =>
  inTransaction(pool, async (client) => {
    const cp = await client.query<{ position: string | null }>('select position from projection_checkpoints where name = $1 for update', [cpName]);
    if ((cp.rows[0]?.position ?? null) !== expected) return false;
    const writing = session.flush(client, keep);
    taken();
    await writing;
    const { tx, pos } = parsePosition(last);
    await client.query(
      `update projection_checkpoints set position = $2, tx_id = $3::xid8, pos = $4, events = events + $5, updated_at = now() where name = $1`,
      [cpName, last, tx, pos, events],
    );
    await client.query(`select pg_notify($1, $2)`, [`govcase_proj_${schema}`, `${cpName} ${last}`]);
    return true;
  });

export const rebuildProjection = async (options: RebuildOptions): Promise<RebuildProgress> => {
  const { pool, store, projection } = options;
  const schema = options.schema ?? 'public';
  const cpName = rebuildCheckpointName(projection.name);
  const batchSize = options.batchSize ?? 5_000;
  const maxRows = options.maxRows ?? 20_000;
  const maxEvents = options.maxEvents ?? 200_000;
  const t = tableNames(SUFFIX);

  // 1. fresh tables (bare: no secondary indexes), or resume the interrupted rebuild
  if (options.fresh) await pool.query('delete from projection_checkpoints where name = $1', [cpName]);
  const resumed = await pool.query('select 1 from projection_checkpoints where name = $1', [cpName]);
  if (resumed.rowCount === 0) {
    for (const table of projection.tables) await pool.query(`drop table if exists ${t(table)}`);
  }
  await inTransaction(pool, async (client) => {
    // under the projection's lock (briefly), so two processes starting at once do not race on the DDL
    await client.query('select pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, lockKey(schema, projection.name)]);
    await projection.createTables(client, t, { deferIndexes: true });
  });
  const start = await ensureCheckpoint(pool, cpName);
  const { tx, pos } = parsePosition(start.position);
  const remaining = await pool.query<{ n: string }>('select count(*) as n from events where (tx_id, position) > ($1::xid8, $2::bigint)', [tx, pos]);
  const total = start.events + Number(remaining.rows[0]?.n ?? 0);

  // 2. replay while the live tables serve
  let cursor = start.position; // where the rebuild checkpoint is
  let folded = start.position; // how far the replay session has folded (= cursor without a session)
  let pending = 0; // events folded, not flushed
  let done = start.events;
  const began = Date.now();
  const progress = (phase: RebuildProgress['phase']): RebuildProgress => {
    const secs = (Date.now() - began) / 1000;
    const rate = secs > 0 ? (done - start.events) / secs : 0;
    const p = { projection: projection.name, done, total: Math.max(total, done), eventsPerSec: Math.round(rate), etaSeconds: rate > 0 ? Math.max(0, (total - done) / rate) : null, phase };
    options.onProgress?.(p);
    return p;
  };
  const session = projection.replay?.(t);
  // a flush runs while the next pages are read and folded; the one before must have committed first
  let writing: Promise<void> | null = null;
  const flush = async (wait: boolean) => {
    if (writing) {
      const previous = writing;
      writing = null;
      await previous;
    }
    if (!session || pending === 0 || folded === null) return;
    const [expected, last, events] = [cursor, folded, pending];
    pending = 0;
    let taken!: () => void;
    const started = new Promise<void>((resolve) => (taken = resolve));
    const flushing = flushSession(pool, schema, cpName, session, Math.floor(maxRows / 4), expected, last, events, taken).then((ok) => {
      if (!ok) throw new Error(`the rebuild checkpoint of ${projection.name} moved: is another rebuild running?`);
      cursor = last;
    });
    flushing.catch(() => {}); // awaited by the next flush
    writing = flushing;
    await Promise.race([started, flushing]);
    if (wait) await flush(false);
  };
  const read = (after: string | null) => {
    const p = store.readAll({ after, limit: batchSize });
    p.catch(() => {}); // awaited below, unless the replay stops first
    return p;
  };
  let next: Promise<EventPage> | null = read(folded);
  while (next) {
    if (options.signal?.aborted) {
      await flush(true);
      return progress('interrupted');
    }
    const page: EventPage = await next;
    if (page.events.length === 0) break;
    next = page.hasMore ? read(page.lastPosition) : null; // read ahead while this page is folded and written
    if (session) {
      const wanted = projection.eventTypes ? page.events.filter((e) => projection.eventTypes!.includes(e.type)) : page.events;
      if (wanted.length > 0) await session.fold(pool, wanted);
      folded = page.lastPosition;
      pending += page.events.length;
      if (session.size >= maxRows || pending >= maxEvents) await flush(false);
    } else {
      if (!(await applyPage(pool, schema, projection, cpName, SUFFIX, cursor, page.events)))
        throw new Error(`the rebuild checkpoint of ${projection.name} moved: is another rebuild running?`);
      cursor = folded = page.lastPosition;
    }
    done += page.events.length;
    progress('replaying');
  }
  await flush(true);
  if (options.switchOver === false) return progress('done');

  // 3. the secondary indexes on the finished tables, and fresh planner statistics, before any lock
  progress('indexing');
  const client = await pool.connect();
  try {
    await client.query('begin');
    await projection.createTables(client, t);
    await client.query('commit');
    for (const table of projection.tables) await client.query(`analyze ${t(table)}`);

    // 4. switch over: last events, swap tables, move the live checkpoint — one transaction
    progress('switching');
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, lockKey(schema, projection.name)]);
    for (;;) {
      const page = await store.readAll({ after: cursor, limit: batchSize });
      if (page.events.length === 0) break;
      const wanted = projection.eventTypes ? page.events.filter((e) => projection.eventTypes!.includes(e.type)) : page.events;
      if (wanted.length > 0) await projection.apply(client, wanted, t);
      cursor = page.lastPosition;
      done += page.events.length;
      if (!page.hasMore) break;
    }
    for (const table of projection.tables) {
      await client.query(`drop table if exists ${table}`);
      await client.query(`alter table ${t(table)} rename to ${table}`);
      const idx = await client.query<{ indexname: string }>(
        `select indexname from pg_indexes where schemaname = current_schema() and tablename = $1`, [table]);
      for (const { indexname } of idx.rows) {
        if (indexname.startsWith(t(table))) await client.query(`alter index ${indexname} rename to ${table}${indexname.slice(t(table).length)}`);
      }
    }
    const last = parsePosition(cursor);
    await client.query(
      `insert into projection_checkpoints (name, position, tx_id, pos, events, updated_at) values ($1, $2, $3::xid8, $4, $5, now())
       on conflict (name) do update set position = excluded.position, tx_id = excluded.tx_id, pos = excluded.pos, events = excluded.events, updated_at = now()`,
      [projection.name, cursor, last.tx, last.pos, done],
    );
    await client.query('delete from projection_checkpoints where name = $1', [cpName]);
    await client.query(`select pg_notify($1, $2)`, [`govcase_proj_${schema}`, `${projection.name} ${cursor ?? ''}`]);
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
  return progress('done');
};
