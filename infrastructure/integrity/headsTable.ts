import type pg from 'pg';
import type { CheckpointHeads, HeadsSession } from '../../application/integrity.ts';
import { CHECKPOINT_STREAM, type StreamHeadEntry } from '../../domain/integrity/checkpoint.ts';
import { validationFailed } from '../../domain/errors.ts';
import { inTransaction, toGovcaseError } from '../postgres/pool.ts';

/**
 * The checkpoint heads in the `integrity_heads` table (migration 009). `exclusive` is one transaction
 * holding a transaction-level advisory lock (one per schema), so two nodes' checkpoints take turns and
 * a crash rolls back whatever the checkpoint had stored.
 */
const LOCK_SQL = `hashtext(current_schema() || '/govcase/integrity-heads')`;

const parse = (p: string): [string, string] => {
  const m = /^(\d{1,20}):(\d{1,20})$/.exec(p);
  if (!m) throw validationFailed('position', `not a position of this store: ${p.slice(0, 50)}`);
  return [m[1]!, m[2]!];
};

type HeadRow = { stream_id: string; revision: string; hash: string };
const toHead = (r: HeadRow): StreamHeadEntry => ({ streamId: r.stream_id, revision: Number(r.revision), hash: r.hash });

type Query = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<R[]>;

/** The session's reads and writes, on the checkpoint's transaction. */
const sessionOn = (q: Query, pageSize: number): HeadsSession => ({
  async get(streamIds) {
    if (streamIds.length === 0) return [];
    return (await q<HeadRow>('select stream_id, revision, hash from integrity_heads where stream_id = any($1::text[])', [streamIds])).map(toHead);
  },
  async *scan() {
    for (let after: string | null = null; ;) {
      const rows: HeadRow[] = after === null
        ? await q<HeadRow>('select stream_id, revision, hash from integrity_heads order by stream_id limit $1', [pageSize])
        : await q<HeadRow>('select stream_id, revision, hash from integrity_heads where stream_id > $1 order by stream_id limit $2', [after, pageSize]);
      if (rows.length > 0) yield rows.map(toHead);
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.stream_id;
    }
  },
  async put(heads) {
    if (heads.length === 0) return;
    await q(`insert into integrity_heads (stream_id, revision, hash)
             select * from unnest($1::text[], $2::bigint[], $3::text[])
             on conflict (stream_id) do update set revision = excluded.revision, hash = excluded.hash`,
    [heads.map((h) => h.streamId), heads.map((h) => h.revision), heads.map((h) => h.hash)]);
  },
  async reset(position) {
    await q('delete from integrity_heads');
    if (position === null) return;
    const [tx, pos] = parse(position);
    await q(`insert into integrity_heads (stream_id, revision, hash)
             select distinct on (stream_id) stream_id, revision, hash from events
              where (tx_id, position) <= ($1::xid8, $2::bigint) and stream_id <> $3
              order by stream_id, revision desc`, [tx, pos, CHECKPOINT_STREAM]);
  },
});

export const getPostgresCheckpointHeads = (options: { readonly pool: pg.Pool; readonly pageSize?: number }): CheckpointHeads => {
  const pageSize = options.pageSize ?? 5_000;
  return {
    async exclusive(fn) {
      try {
        return await inTransaction(options.pool, async (client) => {
          const q: Query = async (text, values = []) => (await client.query(text, values)).rows;
          // a first checkpoint over a large log, or a rebuild of the heads, can outlast the pool's statement timeout
          await q('set local statement_timeout = 0');
          await q(`select pg_advisory_xact_lock(${LOCK_SQL})`);
          return fn(sessionOn(q, pageSize));
        });
      } catch (err) {
        throw toGovcaseError(err, 'integrity heads');
      }
    },
  };
};
