import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
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

/**
 * Reads of events come back as arrays (no object per row with eleven named keys: pg builds those
 * field by field) and `recorded_at` as PostgreSQL's text: the events of one transaction share one
 * timestamp (`now()`), so its ISO form is computed once per distinct value in a page, not parsed
 * into a Date and formatted again for every row (a catch-up read spent a tenth of its time there).
 */
type EventRow = [
  position: string, tx: string, streamId: string, revision: string, eventId: string, type: string,
  data: unknown, metadata: RecordedEvent['metadata'], hash: string, previousHash: string | null, recordedAt: string,
];
const TIMESTAMPTZ = 1184;
const parseTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ) as (text: string) => Date;
const rawTimestamps = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMPTZ ? (text: string) => text : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** Rows → events, the ISO time of each distinct `recorded_at` text computed once. */
const toRecordedPage = (rows: readonly EventRow[]): RecordedEvent[] => {
  let lastRaw = '', lastIso = '';
  return rows.map((r) => {
    if (r[10] !== lastRaw) {
      lastRaw = r[10];
      lastIso = parseTimestamptz(lastRaw).toISOString();
    }
    return {
      id: r[4], streamId: r[2], revision: Number(r[3]), position: `${r[1]}:${r[0]}`, type: r[5], data: r[6],
      metadata: r[7], recordedAt: lastIso, hash: r[8], previousHash: r[9],
    };
  });
};

const clampLimit = (limit: number | undefined, fallback: number, max: number) =>
  Math.min(Math.max(1, Math.floor(limit ?? fallback)), max);

export const getPostgresEventStoreAdapter = (options: PostgresEventStoreOptions): EventStoreAdapter => {
  const { pool } = options;
  const schema = options.schema ?? 'public';
  // this store's NOTIFY payload: its own commits wake its subscribers directly (`announce`), so the
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

  const queryRows = async (config: pg.QueryConfig, what: string): Promise<EventRow[]> => {
    if (closed) throw unavailable('the event store is closed');
    try {
      return (await pool.query<EventRow>({ ...config, rowMode: 'array', types: rawTimestamps })).rows;
    } catch (err) {
      throw toGovcaseError(err, what);
    }
  };

  // 1. one batch → one statement: the appends as small arrays, their events as ONE jsonb document
  // (JSON.stringify once, parsed once by the server; see migration 008)
  const writeBatch = async (items: readonly BatchItem<AppendInput, AdapterAppendResult>[]): Promise<(AdapterAppendResult | Error)[]> => {
    const n = items.length;
    const streams = new Array<string>(n), expected = new Array<number>(n), commands = new Array<string | null>(n);
    const heads = new Array<string>(n), counts = new Array<number>(n);
    const events: BatchEvent[] = [];
    for (let i = 0; i < n; i++) {
      const item = items[i]!;
      const evs = item.input.events;
      streams[i] = item.streamId;
      expected[i] = item.input.expectedVersion;
      commands[i] = item.commandId ?? null;
      heads[i] = evs[evs.length - 1]!.hash;
      counts[i] = evs.length;
      for (const e of evs) {
        events.push({ a: i + 1, r: e.revision, i: e.id, t: e.type, d: e.data, m: e.metadata, h: e.hash, p: e.previousHash });
      }
    }
    const config: pg.QueryConfig = {
      name: `govcase_append_batch_${schema}`,
      text: 'select * from govcase_append_batch($1, $2, $3, $4, $5, $6::jsonb)',
      values: [streams, expected, commands, heads, counts, JSON.stringify(events)],
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
    const byItem: AppendRow[][] = Array.from({ length: n }, () => []);
    for (const r of rows) byItem[r.r_idx - 1]?.push(r);
    // every event of a transaction has the same recorded_at (now()): format it once
    const iso = new Map<number, string>();
    const isoOf = (d: Date) => {
      const t = d.getTime();
      let s = iso.get(t);
      if (s === undefined) iso.set(t, (s = d.toISOString()));
      return s;
    };
    return items.map((item, i) => toOutcome(item, byItem[i]!, isoOf));
  };

  const toOutcome = (
    item: BatchItem<AppendInput, AdapterAppendResult>, rows: AppendRow[], isoOf: (d: Date) => string,
  ): AdapterAppendResult | Error => {
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
    // the rows come in position order, which is the order of the append's events
    if (rows.length !== item.input.events.length) return new Error(`append to ${item.streamId}: ${rows.length} rows for ${item.input.events.length} events`);
    const events = item.input.events.map((e, k): RecordedEvent => {
      const r = Number(rows[k]!.r_from) === e.revision ? rows[k]! : rows.find((x) => Number(x.r_from) === e.revision)!;
      return {
        id: e.id, streamId: e.streamId, revision: e.revision, position: `${r.r_tx!}:${r.r_position!}`, type: e.type, data: e.data,
        metadata: e.metadata, recordedAt: isoOf(r.r_recorded_at!), hash: e.hash, previousHash: e.previousHash,
      };
    });
    return { status: 'ok', events };
  };

  // After a batch commits: wake this process's subscribers at once, and other processes' through one
  // NOTIFY outside the append transaction, coalesced: at most one in flight and at most one per
  // `notifyIntervalMs` (batches that commit meanwhile share the next one). Each NOTIFY is a round trip
  // and a wake-up of every listening backend; under load there is a batch every millisecond or so.
  // A crash between commit and NOTIFY delays other processes by their idle poll.
  const notifyIntervalMs = options.notifyIntervalMs ?? 5;
  let notifying: Promise<void> | null = null;
  let notifyTimer: NodeJS.Timeout | null = null;
  let notifyAgain = false;
  let lastNotify = -Infinity;
  const sendNotify = () => {
    lastNotify = performance.now();
    notifyAgain = false;
    notifying = pool
      .query({ name: `govcase_notify_${schema}`, text: 'select pg_notify($1, $2)', values: [`govcase_${schema}`, self] })
      .then(() => {}, () => {})
      .finally(() => {
        notifying = null;
        if (notifyAgain && !closed) requestNotify();
      });
  };
  // Nobody else listening (one node, the usual case): no NOTIFY at all. Whether another backend listens
  // on the channel is asked at most once a second, while appends happen; until the first answer, and
  // whenever the question fails, the NOTIFY is sent. A node that starts listening is heard of within
  // a second; its subscribers meanwhile find new events by their idle poll.
  const listenQuery = `listen "govcase_${schema}"`;
  let othersListen = true;
  let askedAt = -Infinity;
  const askWhoListens = () => {
    askedAt = performance.now();
    pool
      .query<{ others: boolean }>({
        name: `govcase_listeners_${schema}`,
        text: `select exists (select 1 from pg_stat_activity
                 where datname = current_database() and pid <> $1 and query = $2 and backend_type = 'client backend')
                 or current_setting('track_activities') <> 'on' as others`,
        values: [notifier.listenerPid() ?? 0, listenQuery],
      })
      .then((r) => { othersListen = r.rows[0]?.others !== false; }, () => { othersListen = true; });
  };
  const requestNotify = () => {
    if (performance.now() - askedAt > 1_000) askWhoListens();
    if (!othersListen) return;
    if (notifying || notifyTimer) {
      notifyAgain = true;
      return;
    }
    const wait = lastNotify + notifyIntervalMs - performance.now();
    if (wait <= 0) return sendNotify();
    notifyTimer = setTimeout(() => {
      notifyTimer = null;
      if (!closed) sendNotify();
    }, wait);
  };
  const announce = () => {
    notifier.wakeLocal();
    requestNotify();
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
  const readShared = (after: { tx: bigint; pos: bigint }, limit: number): Promise<RecordedEvent[]> => {
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
        text: `select ${COLUMNS} from events where stream_id = $1 and revision ${backwards ? '<=' : '>='} $2
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

    comparePositions(a, b) {
      const x = parsePosition(a), y = parsePosition(b);
      return x.tx !== y.tx ? (x.tx < y.tx ? -1 : 1) : x.pos === y.pos ? 0 : x.pos < y.pos ? -1 : 1;
    },

    async close() {
      if (closed) return;
      await committer.drain();
      closed = true;
      // the last commits' NOTIFY goes out now rather than never
      if (notifyTimer) {
        clearTimeout(notifyTimer);
        notifyTimer = null;
        sendNotify();
      }
      await notifying;
      await notifier.close();
      if (options.ownsPool) await pool.end();
    },
  };
};

/** One event in the batch document (migration 008): short keys, since every batch carries them all. */
interface BatchEvent {
  readonly a: number;
  readonly r: number;
  readonly i: string;
  readonly t: string;
  readonly d: unknown;
  readonly m: unknown;
  readonly h: string;
  readonly p: string | null;
}

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
