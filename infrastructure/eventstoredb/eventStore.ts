import { randomUUID } from 'node:crypto';
import { unavailable, validationFailed } from '../../domain/errors.ts';
import {
  createEventStore, type AdapterAppendResult, type CommandRecord, type EventPage, type EventStore, type EventStoreAdapter,
  type PreparedEvent, type ReadAllOptions, type ReadStreamOptions, type RecordedEvent, type StreamHead, type SubscribeOptions,
} from '../../application/eventStore.ts';
import { createEsdbClient, type EsdbClient } from './client.ts';
import {
  ALL_FILTER_REGEX, COMMAND_CLAIM_TYPE, classifyReadBack, commandRecordOf, commandStreamName, compareEsdbPositions, comparePositions,
  eventsAfter, formatPosition, isCommandClaim, isEnvelope, isExcluded, isReservedStream, isUnavailable, parsePosition, toEnvelope,
  toExpectedRevision, toReadRevision, toRecorded, toThrowable, translateError, type CommandClaim, type EsdbPosition, type RawEvent,
} from './mapping.ts';

/**
 * The EventStoreDB adapter (`EVENT_STORE=eventstoredb`). The hash chain, expected-version rules and
 * idempotency results come from the port above it, as for PostgreSQL; this file stores and reads.
 * - Append: `appendToStream` with the exact expected revision (`no_stream` for -1), event ids as the
 *   port made them (derived from the commandId, so EventStoreDB deduplicates a repeated command),
 *   then the events are read back for their positions. Each append carries a random append id in
 *   the metadata: a read-back with another append id is a write EventStoreDB deduplicated, which is
 *   answered as `duplicate` with the first write's record.
 * - `findCommand`: a claim in `govcase-command-<commandId>` written before the events, confirmed by
 *   the event found at the claimed revision (see mapping.ts). Costs two extra calls per append that
 *   carries a commandId (read the claim stream first, write a claim).
 * - `readAll` / `subscribeToAll`: `$all` without system events, claims and events not written by
 *   govcase. Subscriptions are catch-up subscriptions filtered on the server (event-type regex) and
 *   re-subscribe from the last position seen when the connection drops; `readAll` filters on the
 *   client, because the v6 client cannot filter reads (client.ts). `$all` is in commit order and a
 *   position, once seen, is never overtaken: no visibility horizon as on PostgreSQL.
 * - Positions: `esdb:<commit>/<prepare>` (mapping.ts).
 */
export interface EventStoreDbOptions {
  readonly connectionString: string;
  /** Deadline per call (ms); default 10 s. */
  readonly deadlineMs?: number;
  /** Slowest re-subscribe after a dropped subscription (ms). */
  readonly maxReconnectDelayMs?: number;
  readonly log?: (msg: string) => void;
  /** For tests: a client other than the real one. */
  readonly client?: EsdbClient;
}

const clampLimit = (limit: number | undefined, fallback: number, max: number) => Math.min(Math.max(1, Math.floor(limit ?? fallback)), max);

export const getEventStoreDbAdapter = (options: EventStoreDbOptions): EventStoreAdapter => {
  const esdb = options.client ?? createEsdbClient({ connectionString: options.connectionString, deadlineMs: options.deadlineMs });
  const log = options.log ?? (() => {});
  const maxReconnectDelayMs = options.maxReconnectDelayMs ?? 5_000;
  let closed = false;
  const live = new Set<() => void>();

  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    if (closed) throw unavailable('the event store is closed');
    try {
      return await fn();
    } catch (err) {
      throw toThrowable(err, what);
    }
  };

  /** A stream's events, raw; a stream that does not exist reads as empty. */
  const readRaw = async (streamId: string, from: bigint | 'start' | 'end', maxCount: number, backwards: boolean, what: string): Promise<RawEvent[]> => {
    if (closed) throw unavailable('the event store is closed');
    try {
      return await esdb.readStream(streamId, { from, maxCount, backwards });
    } catch (err) {
      const t = translateError(err, what);
      if (t.kind === 'not_found') return [];
      throw t.kind === 'error' ? t.error : err;
    }
  };

  const findCommand = async (commandId: string): Promise<CommandRecord | null> => {
    const claims = await readRaw(commandStreamName(commandId), 'start', 1_000, false, 'find command');
    const tried = new Set<string>();
    for (const raw of claims) {
      const claim = raw.data;
      if (!isCommandClaim(claim)) continue;
      const key = `${claim.streamId}@${claim.fromRevision}`;
      if (tried.has(key)) continue;
      tried.add(key);
      const found = await readRaw(claim.streamId, BigInt(claim.fromRevision), claim.count, false, 'find command');
      const record = commandRecordOf(commandId, claim, found.filter((e) => isEnvelope(e.metadata)).map(toRecorded));
      if (record) return record;
    }
    return null;
  };

  const append = async (streamId: string, events: readonly PreparedEvent[], expectedVersion: number, commandId: string | undefined): Promise<AdapterAppendResult> => {
    if (isReservedStream(streamId)) throw validationFailed('streamId', 'names starting with "$" or "govcase-command-" are reserved');
    const first = events[0]!;
    // 1. a command already recorded (on this stream or another) answers with its record
    if (commandId) {
      const record = await findCommand(commandId);
      if (record) return { status: 'duplicate', record };
      const claim: CommandClaim = { streamId, fromRevision: first.revision, count: events.length, firstEventId: first.id };
      await call('claim command', () => esdb.append(commandStreamName(commandId), [{ id: randomUUID(), type: COMMAND_CLAIM_TYPE, data: claim, metadata: {} }], 'any'));
    }
    // 2. the append, checked against the exact revision
    const appendId = randomUUID();
    if (closed) throw unavailable('the event store is closed');
    try {
      // not through `call`: a wrong expected version must come back as a conflict result, not be thrown
      await esdb.append(
        streamId,
        events.map((e) => ({ id: e.id, type: e.type, data: e.data, metadata: toEnvelope(e, appendId) })),
        toExpectedRevision(expectedVersion),
      );
    } catch (err) {
      const t = translateError(err, 'append');
      if (t.kind === 'conflict') return { status: 'conflict', actualVersion: t.actualVersion };
      throw t.kind === 'error' ? t.error : err;
    }
    // 3. read back: positions, and whether this write is ours or one EventStoreDB deduplicated
    const stored = await readRaw(streamId, BigInt(first.revision), events.length, false, 'append read-back');
    const outcome = classifyReadBack(stored, events, appendId, commandId);
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };

  /**
   * One page of `$all` after `after` (exclusive), without excluded events; filtered by type if asked.
   * The v6 client cannot filter reads on the server, so a type filter is applied here; a rare type
   * would then scan the whole log in one call, so such a read stops after `MAX_TYPE_SCAN` events and
   * answers what it found with the scan's position as the cursor (`scanned`), to be continued.
   */
  const MAX_TYPE_SCAN = 50_000;
  const readAllPage = async (after: EsdbPosition | null, limit: number, types: readonly string[] | undefined) => {
    const kept: RecordedEvent[] = [];
    const chunk = Math.min(Math.max(limit + 1, 500), 10_000);
    let cursor = after;
    let scanned = 0;
    for (;;) {
      const from: EsdbPosition | null = cursor;
      const raws: RawEvent[] = await call('read all', () => esdb.readAll({ from: from ?? 'start', maxCount: chunk, backwards: false, filterRegex: ALL_FILTER_REGEX }));
      const next = eventsAfter(raws, cursor, types);
      kept.push(...next.events);
      cursor = next.cursor;
      scanned += raws.length;
      if (kept.length > limit) return { events: kept.slice(0, limit + 1), scanned: null };
      if (raws.length < chunk || cursor === from) return { events: kept, scanned: null };
      if (types && types.length > 0 && scanned >= MAX_TYPE_SCAN && cursor) return { events: kept, scanned: cursor };
    }
  };

  return {
    name: 'eventstoredb',
    append,
    findCommand,

    async streamHead(streamId): Promise<StreamHead | null> {
      const [raw] = await readRaw(streamId, 'end', 1, true, 'stream head');
      if (!raw) return null;
      const e = toRecorded(raw);
      return { version: e.revision, hash: e.hash };
    },

    async readStream(streamId, opts: ReadStreamOptions = {}) {
      const backwards = opts.direction === 'backwards';
      const raws = await readRaw(streamId, toReadRevision(opts.fromRevision, backwards), clampLimit(opts.limit, 100_000, 100_000), backwards, 'read stream');
      return raws.map(toRecorded);
    },

    async readAll(opts: ReadAllOptions = {}): Promise<EventPage> {
      const limit = clampLimit(opts.limit, 1_000, 10_000);
      const { events, scanned } = await readAllPage(parsePosition(opts.after), limit, opts.types);
      if (scanned) return { events, lastPosition: formatPosition(scanned), hasMore: true };
      const hasMore = events.length > limit;
      const page = hasMore ? events.slice(0, limit) : events;
      return { events: page, lastPosition: page.at(-1)?.position ?? opts.after ?? null, hasMore };
    },

    async *subscribeToAll(opts: SubscribeOptions = {}) {
      let cursor = parsePosition(opts.after);
      const batchSize = clampLimit(opts.batchSize, 1_000, 10_000);
      const signal = opts.signal;
      let delay = 100;
      while (!signal?.aborted && !closed) {
        // 1. a catch-up subscription from the last position seen (exclusive)
        const queue: RawEvent[] = [];
        let ended: { err: Error | null } | null = null;
        let wake: (() => void) | null = null;
        let paused = false;
        const poke = () => {
          const w = wake;
          wake = null;
          w?.();
        };
        const sub = esdb.subscribeToAll({ from: cursor ?? 'start', filterRegex: ALL_FILTER_REGEX });
        sub.onEvent((raw) => {
          queue.push(raw);
          if (!paused && queue.length >= batchSize * 4) {
            paused = true;
            sub.pause();
          }
          poke();
        });
        sub.onEnd((err) => {
          ended = { err };
          poke();
        });
        signal?.addEventListener('abort', poke);
        live.add(poke);
        try {
          // 2. pages of what has arrived, in order, each event once (a re-subscription may repeat the last one)
          while (!signal?.aborted && !closed) {
            if (queue.length === 0) {
              if (ended) break;
              await new Promise<void>((resolve) => (wake = resolve));
              continue;
            }
            const take = queue.splice(0, batchSize);
            if (paused && queue.length < batchSize) {
              paused = false;
              sub.resume();
            }
            const next = eventsAfter(take, cursor);
            const page = next.events;
            cursor = next.cursor;
            if (page.length > 0) {
              delay = 100;
              yield page;
            }
          }
        } finally {
          signal?.removeEventListener('abort', poke);
          live.delete(poke);
          await sub.stop();
        }
        if (signal?.aborted || closed) return;
        // 3. dropped: the cluster is away or changed leader; wait, then re-subscribe from the cursor
        const err = (ended as { err: Error | null } | null)?.err ?? null;
        const translated = err ? toThrowable(err, 'subscribe to $all') : null;
        if (translated && !isUnavailable(translated)) throw translated;
        log(`EventStoreDB subscription dropped (${err ? err.message.split('\n')[0] : 'ended by the server'}); re-subscribing in ${delay} ms`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delay);
          signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
        });
        delay = Math.min(delay * 2, maxReconnectDelayMs);
      }
    },

    async headPosition() {
      let before: EsdbPosition | 'end' = 'end';
      for (;;) {
        const from: EsdbPosition | 'end' = before;
        const raws: RawEvent[] = await call('head position', () => esdb.readAll({ from, maxCount: 500, backwards: true, filterRegex: ALL_FILTER_REGEX }));
        for (const raw of raws) {
          if (!raw.position || (before !== 'end' && compareEsdbPositions(raw.position, before) >= 0)) continue;
          before = raw.position;
          if (!isExcluded(raw.streamId, raw.type) && isEnvelope(raw.metadata)) return formatPosition(raw.position);
        }
        if (raws.length < 500 || before === from) return null;
      }
    },

    comparePositions,

    async close() {
      if (closed) return;
      closed = true;
      for (const poke of live) poke();
      await esdb.close();
    },
  };
};

export const getEventStoreDbEventStore = (options: EventStoreDbOptions): EventStore => createEventStore(getEventStoreDbAdapter(options));

/**
 * Boot: wait (bounded) until the cluster answers, so a wrong URL or a cluster that is down stops the
 * boot with a clear UNAVAILABLE instead of hanging; once up, calls fail with UNAVAILABLE while the
 * cluster is away and the client reconnects by itself.
 */
export const waitForEventStoreDb = async (store: Pick<EventStore, 'headPosition'>, url: string, log: (msg: string) => void, timeoutMs = 15_000): Promise<void> => {
  const shown = redactUrl(url);
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const head = await store.headPosition();
      log(`EventStoreDB at ${shown} answers (log head: ${head ?? 'empty'})`);
      return;
    } catch (err) {
      if (!isUnavailable(err) || Date.now() >= deadline) {
        throw isUnavailable(err) ? unavailable(`EventStoreDB at ${shown} did not answer within ${Math.round(timeoutMs / 1000)} s: ${(err as Error).message}`) : err;
      }
      if (attempt === 0) log(`EventStoreDB at ${shown} does not answer yet (${(err as Error).message}); retrying for up to ${Math.round(timeoutMs / 1000)} s`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
};

export const redactUrl = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@');
