import type pg from 'pg';
import type { EventStore, RecordedEvent } from '../../application/eventStore.ts';
import type { IntegrityLog } from '../../application/integrity.ts';
import { CHECKPOINT_STREAM, type StreamHeadEntry } from '../../domain/integrity/checkpoint.ts';
import { validationFailed } from '../../domain/errors.ts';
import { toGovcaseError } from '../postgres/pool.ts';

/**
 * The integrity log over the PostgreSQL event store (PostgreSQL-specific: the port has no "heads at
 * a position" or "log in stream order" read, and the EventStoreDB adapter would answer them its own way).
 * - heads between two positions: one statement, `distinct on (stream_id)` over the (tx_id, position)
 *   range, so a periodic checkpoint reads only what moved since the last one;
 * - the walk: keyset pages over the (stream_id, revision) unique index.
 */
const parse = (p: string): [string, string] => {
  const m = /^(\d{1,20}):(\d{1,20})$/.exec(p);
  if (!m) throw validationFailed('position', `not a position of this store: ${p.slice(0, 50)}`);
  return [m[1]!, m[2]!];
};

interface WalkRow {
  stream_id: string;
  revision: string;
  position: string;
  tx: string;
  event_id: string;
  type: string;
  data: unknown;
  metadata: RecordedEvent['metadata'];
  hash: string;
  previous_hash: string | null;
  recorded_at: Date;
}

const COLUMNS = 'stream_id, revision, position, tx_id::text as tx, event_id, type, data, metadata, hash, previous_hash, recorded_at';

const toEvent = (r: WalkRow): RecordedEvent => ({
  id: r.event_id, streamId: r.stream_id, revision: Number(r.revision), position: `${r.tx}:${r.position}`, type: r.type,
  data: r.data, metadata: r.metadata, recordedAt: r.recorded_at.toISOString(), hash: r.hash, previousHash: r.previous_hash,
});

export const getPostgresIntegrityLog = (options: { readonly pool: pg.Pool; readonly store: EventStore; readonly pageSize?: number }): IntegrityLog => {
  const { pool, store } = options;
  const pageSize = options.pageSize ?? 5_000;
  const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[], what: string) => {
    try {
      return (await pool.query<R>(text, values)).rows;
    } catch (err) {
      throw toGovcaseError(err, what);
    }
  };
  return {
    headPosition: () => store.headPosition(),
    comparePositions: (a, b) => store.comparePositions(a, b),

    async headsBetween(after, upTo) {
      const [toTx, toPos] = parse(upTo);
      const [fromTx, fromPos] = after ? parse(after) : ['0', '0'];
      // the whole log's heads (a restart, a first checkpoint) can outlast the pool's statement timeout
      let client: pg.PoolClient | undefined;
      let rows: { stream_id: string; revision: string; hash: string }[];
      try {
        client = await pool.connect();
        await client.query('begin');
        await client.query('set local statement_timeout = 0');
        rows = (await client.query<{ stream_id: string; revision: string; hash: string }>(
          `select distinct on (stream_id) stream_id, revision, hash from events
            where (tx_id, position) > ($1::xid8, $2::bigint) and (tx_id, position) <= ($3::xid8, $4::bigint) and stream_id <> $5
            order by stream_id, revision desc`,
          [fromTx, fromPos, toTx, toPos, CHECKPOINT_STREAM])).rows;
        await client.query('commit');
      } catch (err) {
        await client?.query('rollback').catch(() => {});
        throw toGovcaseError(err, 'stream heads');
      } finally {
        client?.release();
      }
      return rows.map((r): StreamHeadEntry => ({ streamId: r.stream_id, revision: Number(r.revision), hash: r.hash }));
    },

    async *walk(opts = {}) {
      const page = (stream: string, revision: number) => opts.streamId !== undefined
        ? query<WalkRow>(`select ${COLUMNS} from events where stream_id = $1 and revision > $2 order by revision limit $3`,
          [opts.streamId, revision, pageSize], 'integrity walk')
        : query<WalkRow>(`select ${COLUMNS} from events where (stream_id, revision) > ($1, $2) order by stream_id, revision limit $3`,
          [stream, revision, pageSize], 'integrity walk');
      // the next page is read while the caller hashes this one
      let next = page(opts.streamId ?? '', -1);
      for (;;) {
        const rows = await next;
        if (rows.length === 0) return;
        const last = rows[rows.length - 1]!;
        const more = rows.length === pageSize;
        if (more) {
          next = page(last.stream_id, Number(last.revision));
          next.catch(() => {}); // handled when awaited; a caller that stops early leaves it unobserved
        }
        yield rows.map(toEvent);
        if (!more) return;
      }
    },
  };
};
