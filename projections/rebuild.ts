import type pg from 'pg';
import type { EventStore } from '../application/eventStore.ts';
import { tableNames, type Projection } from './projection.ts';
import { applyPage, createTablesOnce, ensureCheckpoint, lockKey, parsePosition } from './runner.ts';

/**
 * Rebuild without downtime: replays the log from position zero into fresh tables (`<table>__rebuild`)
 * while the live ones keep serving, then switches over in one transaction under the projection's
 * lock: the last events are applied, the tables swapped, the checkpoint moved. Interrupted, it
 * resumes from its own checkpoint (`<name>@rebuild`).
 */
export interface RebuildProgress {
  readonly projection: string;
  readonly done: number;
  readonly total: number;
  readonly eventsPerSec: number;
  readonly etaSeconds: number | null;
  readonly phase: 'replaying' | 'switching' | 'done' | 'interrupted';
}

export interface RebuildOptions {
  readonly pool: pg.Pool;
  readonly store: EventStore;
  readonly projection: Projection;
  readonly schema?: string;
  readonly batchSize?: number;
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

export const rebuildProjection = async (options: RebuildOptions): Promise<RebuildProgress> => {
  const { pool, store, projection } = options;
  const schema = options.schema ?? 'public';
  const cpName = rebuildCheckpointName(projection.name);
  const batchSize = options.batchSize ?? 5_000;
  const t = tableNames(SUFFIX);

  // 1. fresh tables, or resume the interrupted rebuild
  if (options.fresh) await pool.query('delete from projection_checkpoints where name = $1', [cpName]);
  const resumed = await pool.query('select 1 from projection_checkpoints where name = $1', [cpName]);
  if (resumed.rowCount === 0) {
    for (const table of projection.tables) await pool.query(`drop table if exists ${t(table)}`);
  }
  await createTablesOnce(pool, schema, projection, SUFFIX);
  const start = await ensureCheckpoint(pool, cpName);
  const { tx, pos } = parsePosition(start.position);
  const remaining = await pool.query<{ n: string }>('select count(*) as n from events where (tx_id, position) > ($1::xid8, $2::bigint)', [tx, pos]);
  const total = start.events + Number(remaining.rows[0]?.n ?? 0);

  // 2. replay while the live tables serve
  let cursor = start.position;
  let done = start.events;
  const began = Date.now();
  const progress = (phase: RebuildProgress['phase']): RebuildProgress => {
    const secs = (Date.now() - began) / 1000;
    const rate = secs > 0 ? (done - start.events) / secs : 0;
    const p = { projection: projection.name, done, total: Math.max(total, done), eventsPerSec: Math.round(rate), etaSeconds: rate > 0 ? Math.max(0, (total - done) / rate) : null, phase };
    options.onProgress?.(p);
    return p;
  };
  for (;;) {
    if (options.signal?.aborted) return progress('interrupted');
    const page = await store.readAll({ after: cursor, limit: batchSize });
    if (page.events.length === 0) break;
    if (!(await applyPage(pool, schema, projection, cpName, SUFFIX, cursor, page.events)))
      throw new Error(`the rebuild checkpoint of ${projection.name} moved: is another rebuild running?`);
    cursor = page.lastPosition;
    done += page.events.length;
    progress('replaying');
    if (!page.hasMore) break;
  }
  if (options.switchOver === false) return progress('done');

  // 3. switch over: last events, swap tables, move the live checkpoint — one transaction
  progress('switching');
  const client = await pool.connect();
  try {
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
