import type pg from 'pg';
import { GovcaseError, unavailable, validationFailed } from '../../domain/errors.ts';
import {
  createEventStore, type AdapterAppendResult, type CommandRecord, type EventPage, type EventStore,
  type EventStoreAdapter, type PreparedEvent, type ReadAllOptions, type ReadStreamOptions, type RecordedEvent,
  type StreamHead, type SubscribeOptions,
} from '../../application/eventStore.ts';
import { createGroupCommitter, type BatchItem } from './groupCommit.ts';
import { createNotifier } from './notifier.ts';
import { isTransientError, isUnavailableError, toGovcaseError } from './pool.ts';

/**
 * The PostgreSQL event store (the default adapter).
 * - Appends go through group commit: one `govcase_append(...)` call per batch (prepared, one round
 *   trip), each append with its own version check and idempotency key.
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
  /** Whether close() ends the pool too (when the store created it for itself). */
  readonly ownsPool?: boolean;
}

interface AppendInput {
  readonly events: readonly PreparedEvent[];
  readonly expectedVersion: number;
}

const BEGINNING = { tx: 0n, pos: 0n };

const parsePosition = (p: string | null | undefined): { tx: bigint; pos: bigint } => {
  if (p === null || p === undefined || p === '') return BEGINNING;
  const m = /^(\d{1,20}):(\d{1,20})$/.exec(p);
  if (!m) throw validationFailed('position', `not a position of this store: ${p.slice(0, 50)}`);
  return { tx: BigInt(m[1]!), pos: BigInt(m[2]!) };
};

export const formatPosition = (tx: string | bigint, pos: string | bigint | number) => `${tx}:${pos}`;

const COLUMNS = `position, tx_id::text as tx, stream_id, revision, event_id, type, data, metadata, hash, previous_hash, recorded_at`;

interface EventRow {
  position: string;
  tx: string;
  stream_id: string;
  revision: string;
  event_id: string;
  type: string;
  data: unknown;
  metadata: RecordedEvent['metadata'];
  hash: string;
  previous_hash: string | null;
  recorded_at: Date;
}

const toRecorded = (r: EventRow): RecordedEvent => ({
  id: r.event_id,
  streamId: r.stream_id,
  revision: Number(r.revision),
  position: formatPosition(r.tx, r.position),
  type: r.type,
  data: r.data,
  metadata: r.metadata,
  recordedAt: r.recorded_at.toISOString(),
  hash: r.hash,
  previousHash: r.previous_hash,
});

const clampLimit = (limit: number | undefined, fallback: number, max: number) =>
  Math.min(Math.max(1, Math.floor(limit ?? fallback)), max);

export const getPostgresEventStoreAdapter = (options: PostgresEventStoreOptions): EventStoreAdapter => {
  const { pool } = options;
  const schema = options.schema ?? 'public';
  const notifier = createNotifier(options.connectionString, `govcase_${schema}`);
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

  // 1. one batch → one statement
  const writeBatch = async (items: readonly BatchItem<AppendInput, AdapterAppendResult>[]): Promise<(AdapterAppendResult | Error)[]> => {
    const streams: string[] = [], expected: number[] = [], commands: (string | null)[] = [], heads: string[] = [], counts: number[] = [];
    const eAppend: number[] = [], eRev: number[] = [], eIds: string[] = [], eTypes: string[] = [];
    const eData: string[] = [], eMeta: string[] = [], eHashes: string[] = [], ePrev: (string | null)[] = [];
    items.forEach((item, i) => {
      const evs = item.input.events;
      streams.push(item.streamId);
      expected.push(item.input.expectedVersion);
      commands.push(item.commandId ?? null);
      heads.push(evs[evs.length - 1]!.hash);
      counts.push(evs.length);
      for (const e of evs) {
        eAppend.push(i + 1);
        eRev.push(e.revision);
        eIds.push(e.id);
        eTypes.push(e.type);
        eData.push(JSON.stringify(e.data));
        eMeta.push(JSON.stringify(e.metadata));
        eHashes.push(e.hash);
        ePrev.push(e.previousHash);
      }
    });
    const config: pg.QueryConfig = {
      name: `govcase_append_${schema}`,
      text: 'select * from govcase_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb[], $11::jsonb[], $12, $13)',
      values: [streams, expected, commands, heads, counts, eAppend, eRev, eIds, eTypes, eData, eMeta, eHashes, ePrev],
    };
    let rows: AppendRow[];
    for (let attempt = 0; ; attempt++) {
      try {
        rows = (await pool.query<AppendRow>(config)).rows;
        break;
      } catch (err) {
        if (isTransientError(err) && attempt < 3) continue;
        if (isUnavailableError(err)) throw toGovcaseError(err, 'append');
        // a statement-level failure caused by one bad append must not fail its neighbours
        if (items.length > 1) return (await Promise.all(items.map((it) => writeBatch([it])))).flat();
        return [err instanceof Error ? err : new Error(String(err))];
      }
    }
    if (rows.some((r) => r.r_outcome === 'ok')) announce();
    return items.map((item, i) => toOutcome(item, rows.filter((r) => r.r_idx === i + 1)));
  };

  const toOutcome = (item: BatchItem<AppendInput, AdapterAppendResult>, rows: AppendRow[]): AdapterAppendResult | Error => {
    const first = rows[0];
    if (!first) return new Error(`append to ${item.streamId}: no outcome returned`);
    if (first.r_outcome === 'conflict') return { status: 'conflict', actualVersion: Number(first.r_to) };
    if (first.r_outcome === 'duplicate') {
      if (first.r_position === null) return new Error(`append to ${item.streamId}: the duplicate command has no result`);
      return {
        status: 'duplicate',
        record: {
          commandId: item.commandId!, streamId: first.r_stream, fromRevision: Number(first.r_from),
          toRevision: Number(first.r_to), position: formatPosition(first.r_tx!, first.r_position),
        },
      };
    }
    const byRevision = new Map(rows.map((r) => [Number(r.r_from), r] as const));
    const events = item.input.events.map((e): RecordedEvent => {
      const r = byRevision.get(e.revision)!;
      return { ...e, position: formatPosition(r.r_tx!, r.r_position!), recordedAt: r.r_recorded_at!.toISOString() };
    });
    return { status: 'ok', events };
  };

  // After a batch commits: wake this process's subscribers at once, and other processes' through one
  // NOTIFY outside the append transaction (coalesced: at most one in flight, one more if batches
  // committed meanwhile). A crash between commit and NOTIFY delays other processes by their idle poll.
  let notifying = false;
  let notifyAgain = false;
  const announce = () => {
    notifier.wakeLocal();
    if (notifying) {
      notifyAgain = true;
      return;
    }
    notifying = true;
    pool
      .query({ name: `govcase_notify_${schema}`, text: 'select pg_notify($1, $2)', values: [`govcase_${schema}`, ''] })
      .catch(() => {})
      .finally(() => {
        notifying = false;
        if (notifyAgain && !closed) {
          notifyAgain = false;
          announce();
        }
      });
  };

  const committer = createGroupCommitter<AppendInput, AdapterAppendResult>({ write: writeBatch, maxInFlight: options.maxInFlight ?? 2 });

  const readPage = async (after: { tx: bigint; pos: bigint }, limit: number, types?: readonly string[]) => {
    const values: unknown[] = [after.tx.toString(), after.pos.toString(), limit];
    let text = `select ${COLUMNS} from events
      where (tx_id, position) > ($1::xid8, $2::bigint) and tx_id < pg_snapshot_xmin(pg_current_snapshot())`;
    if (types && types.length > 0) {
      text += ' and type = any($4)';
      values.push(types);
    }
    text += ' order by tx_id, position limit $3';
    const res = await query<EventRow>({ name: types?.length ? `govcase_read_all_types_${schema}` : `govcase_read_all_${schema}`, text, values }, 'read all');
    return res.rows.map(toRecorded);
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
      const res = await query<EventRow>({
        name: `govcase_read_stream_${backwards ? 'b' : 'f'}_${schema}`,
        text: `select ${COLUMNS} from events where stream_id = $1 and revision ${backwards ? '<=' : '>='} $2
               order by revision ${backwards ? 'desc' : 'asc'} limit $3`,
        values: [streamId, from, limit],
      }, 'read stream');
      return res.rows.map(toRecorded);
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
      let delay = 1;
      while (!opts.signal?.aborted && !closed) {
        let page: RecordedEvent[];
        try {
          page = await readPage(cursor, batchSize);
        } catch (err) {
          if (!(err instanceof GovcaseError && err.code === 'UNAVAILABLE')) throw err;
          // the database is away: wait and try again; the cursor is where it was
          await notifier.wait(1_000, opts.signal);
          continue;
        }
        if (page.length > 0) {
          cursor = parsePosition(page[page.length - 1]!.position);
          delay = 1;
          yield page;
          continue;
        }
        // nothing visible: wait for a commit's notification; a notified batch may still be hidden
        // behind an older transaction, so retry soon after, backing off to the idle poll
        const why = await notifier.wait(delay, opts.signal);
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

    comparePositions(a, b) {
      const x = parsePosition(a), y = parsePosition(b);
      return x.tx !== y.tx ? (x.tx < y.tx ? -1 : 1) : x.pos === y.pos ? 0 : x.pos < y.pos ? -1 : 1;
    },

    async close() {
      if (closed) return;
      await committer.drain();
      closed = true;
      await notifier.close();
      if (options.ownsPool) await pool.end();
    },
  };
};

interface AppendRow {
  r_idx: number;
  r_outcome: 'ok' | 'conflict' | 'duplicate';
  r_stream: string;
  r_from: string | null;
  r_to: string | null;
  r_position: string | null;
  r_tx: string | null;
  r_recorded_at: Date | null;
}

export const getPostgresEventStore = (options: PostgresEventStoreOptions): EventStore =>
  createEventStore(getPostgresEventStoreAdapter(options));
