import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { GovcaseError, unavailable } from '../../domain/errors.ts';
import {
  createEventStore, type AdapterAppendResult, type CommandRecord, type EventPage, type EventStore,
  type EventStoreAdapter, type ReadAllOptions, type ReadStreamOptions, type RecordedEvent,
  type StreamHead, type SubscribeOptions,
} from '../../application/eventStore.ts';
import { createBatchWriter, type AppendInput } from './appendBatch.ts';
import { createCommitNotices } from './commitNotices.ts';
import {
  comparePositions, EVENT_COLUMNS, formatPosition, parsePosition, rawTimestamps, toRecordedPage, type EventRow, type TxPosition,
} from './eventRows.ts';
import { createGroupCommitter } from './groupCommit.ts';
import { createNotifier } from './notifier.ts';
import { toGovcaseError } from './pool.ts';

/**
 * The PostgreSQL event store (the default adapter).
 * - Appends go through group commit: one `govcase_append_batch(...)` call per batch (migration 008;
 *   prepared, one round trip, the events as one jsonb document), each append with its own version
 *   check and idempotency key.
 * - The global order is (transaction id, position); readers take only transactions older than every
 *   running one (`pg_snapshot_xmin`), so an event that commits late is never skipped.
 * - Positions are opaque strings `<txid>:<position>`.
 */
export interface PostgresEventStoreOptions {
  readonly pool: pg.Pool;
  readonly connectionString: string;
  readonly schema?: string;
  /** Batches in flight at once; the next batch forms while they commit. */
  readonly maxInFlight?: number;
  /** Slowest poll of a live subscription when no notification arrives (ms). */
  readonly idlePollMs?: number;
  /** At most one NOTIFY to other processes per this many ms (default 5); 0: one per batch. */
  readonly notifyIntervalMs?: number;
  /** Whether close() ends the pool too (when the store created it for itself). */
  readonly ownsPool?: boolean;
}

const clampLimit = (limit: number | undefined, fallback: number, max: number) =>
  Math.min(Math.max(1, Math.floor(limit ?? fallback)), max);

export const getPostgresEventStoreAdapter = (options: PostgresEventStoreOptions): EventStoreAdapter => {
  const { pool } = options;
  const schema = options.schema ?? 'public';
  // this store's NOTIFY payload: its own commits wake its subscribers directly (after each batch), so the
  // listener skips them; other processes' (and older versions' empty payloads) wake everyone
  const self = `store ${randomUUID()}`;
  const notifier = createNotifier(options.connectionString, `govcase_${schema}`, undefined, { ignore: self });
  const idlePollMs = options.idlePollMs ?? 250;
  let closed = false;

  const query = async <R extends pg.QueryResultRow>(config: pg.QueryConfig, what: string): Promise<pg.QueryResult<R>> => {
    if (closed) throw unavailable('the event store is closed');
    try {
      return await pool.query<R>(config);
    } catch (err) {
      throw toGovcaseError(err, what);
    }
  };

  // events come back as arrays with their timestamps as text (eventRows.ts)
  const queryRows = async (config: pg.QueryConfig, what: string): Promise<EventRow[]> =>
    (await query<EventRow>({ ...config, rowMode: 'array', types: rawTimestamps } as pg.QueryConfig, what)).rows;

  // appends: one statement per group-commit batch (appendBatch.ts); after a commit, this process's
  // subscribers are woken at once, other processes' by a coalesced NOTIFY (commitNotices.ts)
  const notices = createCommitNotices({
    pool, schema, payload: self, listenerPid: () => notifier.listenerPid(), intervalMs: options.notifyIntervalMs ?? 5,
  });
  const writeBatch = createBatchWriter(pool, schema, () => {
    notifier.wakeLocal();
    notices.request();
  });
  const committer = createGroupCommitter<AppendInput, AdapterAppendResult>({ write: writeBatch, maxInFlight: options.maxInFlight ?? 2 });

  const readPage = async (after: TxPosition, limit: number, types?: readonly string[]) => {
    const values: unknown[] = [after.tx.toString(), after.pos.toString(), limit];
    let text = `select ${EVENT_COLUMNS} from events
      where (tx_id, position) > ($1::xid8, $2::bigint) and tx_id < pg_snapshot_xmin(pg_current_snapshot())`;
    if (types && types.length > 0) {
      text += ' and type = any($4)';
      values.push(types);
    }
    text += ' order by tx_id, position limit $3';
    const res = await queryRows({ name: types?.length ? `govcase_read_all_types_${schema}` : `govcase_read_all_${schema}`, text, values }, 'read all');
    return toRecordedPage(res);
  };

  // The subscribers of one process mostly stand at the same place (the head) and are woken together,
  // so they would each read the same page. A page read since the last wake-up is shared instead, also
  // while the read is in flight. A shared page is never less than a new read would give, but for a
  // transaction that ended without a wake-up and so uncovered more events (those follow the page: see
  // "Global order" in docs/event-store.md), which the next read finds. An empty page is not kept: the
  // wait for a hidden commit (subscribeToAll) must read again. Pages are shared: consumers must not
  // change them (RecordedEvent is readonly).
  const sharedPages = new Map<string, { readonly wakes: number; readonly page: Promise<RecordedEvent[]> }>();
  const readShared = (after: TxPosition, limit: number): Promise<RecordedEvent[]> => {
    const key = `${after.tx}:${after.pos}:${limit}`;
    const wakes = notifier.wakes();
    const hit = sharedPages.get(key);
    if (hit && hit.wakes === wakes) return hit.page;
    // a page from before the last wake-up is never handed out again: it goes (so only this
    // wake-up's pages are held, a few at most)
    for (const [k, e] of sharedPages) if (e.wakes !== wakes) sharedPages.delete(k);
    const entry = { wakes, page: readPage(after, limit) };
    sharedPages.set(key, entry);
    const drop = () => { if (sharedPages.get(key) === entry) sharedPages.delete(key); };
    entry.page.then((p) => { if (p.length === 0) drop(); }, drop);
    if (sharedPages.size > 64) sharedPages.delete(sharedPages.keys().next().value!);
    return entry.page;
  };

  return {
    name: 'postgres',

    append(streamId, events, expectedVersion, commandId) {
      if (closed) return Promise.reject(unavailable('the event store is closed'));
      return committer.submit(streamId, commandId, events.length, { events, expectedVersion });
    },

    async streamHead(streamId): Promise<StreamHead | null> {
      const res = await query<{ version: string; hash: string }>(
        { name: `govcase_head_${schema}`, text: 'select version, hash from streams where stream_id = $1', values: [streamId] },
        'stream head',
      );
      const row = res.rows[0];
      return row ? { version: Number(row.version), hash: row.hash } : null;
    },

    async readStream(streamId, opts: ReadStreamOptions = {}) {
      const backwards = opts.direction === 'backwards';
      const from = opts.fromRevision ?? (backwards ? Number.MAX_SAFE_INTEGER : 0);
      const limit = clampLimit(opts.limit, 100_000, 100_000);
      const res = await queryRows({
        name: `govcase_read_stream_${backwards ? 'b' : 'f'}_${schema}`,
        text: `select ${EVENT_COLUMNS} from events where stream_id = $1 and revision ${backwards ? '<=' : '>='} $2
               order by revision ${backwards ? 'desc' : 'asc'} limit $3`,
        values: [streamId, from, limit],
      }, 'read stream');
      return toRecordedPage(res);
    },

    async readAll(opts: ReadAllOptions = {}): Promise<EventPage> {
      const limit = clampLimit(opts.limit, 1_000, 10_000);
      const events = await readPage(parsePosition(opts.after), limit + 1, opts.types);
      const hasMore = events.length > limit;
      const page = hasMore ? events.slice(0, limit) : events;
      return { events: page, lastPosition: page.at(-1)?.position ?? opts.after ?? null, hasMore };
    },

    async *subscribeToAll(opts: SubscribeOptions = {}) {
      let cursor = parsePosition(opts.after);
      const batchSize = clampLimit(opts.batchSize, 1_000, 10_000);
      // A read follows every wake-up (a commit here, or another process's NOTIFY), never a clock:
      // the wake-up count is taken before each read, and a wake-up during the read means read again.
      // One exception: a wake-up whose events a read does not find, because an older transaction is
      // still open (the visible horizon stops there). Then the read is retried after 1, 2, 4 … ms,
      // backing off to the idle poll, which also covers a lost LISTEN connection.
      let delay = 1;
      let sinceNonEmpty = notifier.wakes();
      while (!opts.signal?.aborted && !closed) {
        const before = notifier.wakes();
        let page: RecordedEvent[];
        try {
          page = await readShared(cursor, batchSize);
        } catch (err) {
          if (!(err instanceof GovcaseError && err.code === 'UNAVAILABLE')) throw err;
          // the database is away: wait and try again; the cursor is where it was
          await notifier.wait(1_000, opts.signal);
          continue;
        }
        if (page.length > 0) {
          cursor = parsePosition(page[page.length - 1]!.position);
          sinceNonEmpty = before;
          delay = 1;
          yield page;
          continue;
        }
        // nothing visible. Woken since the last read that found something: that commit may be hidden
        // behind an older transaction, so look again soon; otherwise sleep until woken (or the idle poll)
        const hidden = before !== sinceNonEmpty;
        const why = await notifier.wait(hidden ? delay : idlePollMs, opts.signal, before);
        delay = why === 'notified' ? 1 : Math.min(delay * 2, idlePollMs);
      }
    },

    async findCommand(commandId): Promise<CommandRecord | null> {
      const res = await query<{ stream_id: string; from_revision: string; to_revision: string; position: string; tx: string }>({
        name: `govcase_find_command_${schema}`,
        text: `select stream_id, from_revision, to_revision, position, tx_id::text as tx from commands
               where command_id = $1 and position is not null`,
        values: [commandId],
      }, 'find command');
      const r = res.rows[0];
      return r
        ? { commandId, streamId: r.stream_id, fromRevision: Number(r.from_revision), toRevision: Number(r.to_revision), position: formatPosition(r.tx, r.position) }
        : null;
    },

    async headPosition() {
      const res = await query<{ position: string; tx: string }>({
        name: `govcase_head_position_${schema}`,
        text: `select position, tx_id::text as tx from events where tx_id < pg_snapshot_xmin(pg_current_snapshot())
               order by tx_id desc, position desc limit 1`,
        values: [],
      }, 'head position');
      const r = res.rows[0];
      return r ? formatPosition(r.tx, r.position) : null;
    },

    comparePositions,

    async close() {
      if (closed) return;
      await committer.drain();
      closed = true;
      await notices.close();
      await notifier.close();
      if (options.ownsPool) await pool.end();
    },
  };
};

export const getPostgresEventStore = (options: PostgresEventStoreOptions): EventStore =>
  createEventStore(getPostgresEventStoreAdapter(options));
