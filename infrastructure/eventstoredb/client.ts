import { EventStoreDBClient, eventTypeFilter, type AllStreamSubscription, type ResolvedEvent } from '@eventstore/db-client';
import type { EsdbExpectedRevision, EsdbPosition, RawEvent } from './mapping.ts';

/**
 * The only file that touches `@eventstore/db-client` (v6). Moving to `@kurrent/kurrentdb-client`
 * is this file: rename the import and `EventStoreDBClient` → `KurrentDBClient` (connection strings
 * `kurrentdb://…`), and pass `filter` to `readAll` (KurrentDB client 1.x filters reads server-side;
 * v6 cannot, so here the adapter filters `readAll` pages on the client — it does so in both cases).
 * Errors are passed through untouched: `mapping.ts` reads their `type` field, which both clients set.
 */
export interface EsdbEventData {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
}

export interface EsdbSubscription {
  /** Called for each event (already past the server-side filter), in log order. */
  onEvent(listener: (e: RawEvent) => void): void;
  /** Called once when the subscription fails or the server ends it. */
  onEnd(listener: (err: Error | null) => void): void;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export interface EsdbClient {
  append(streamId: string, events: readonly EsdbEventData[], expected: EsdbExpectedRevision): Promise<{ nextRevision: bigint; position?: EsdbPosition | undefined }>;
  /** Throws the client's `stream-not-found` error for a stream that does not exist. */
  readStream(streamId: string, options: { from: bigint | 'start' | 'end'; maxCount: number; backwards: boolean }): Promise<RawEvent[]>;
  /** `$all`, unfiltered with this client (see above); `from` is inclusive on the server, callers skip it. */
  readAll(options: { from: EsdbPosition | 'start' | 'end'; maxCount: number; backwards: boolean; filterRegex?: string }): Promise<RawEvent[]>;
  /** A catch-up subscription to `$all` after `from` (exclusive), filtered on the server by event type. */
  subscribeToAll(options: { from: EsdbPosition | 'start'; filterRegex: string }): EsdbSubscription;
  close(): Promise<void>;
}

export interface EsdbClientOptions {
  /** `esdb://host:2113?tls=false`, `esdb+discover://a:2113,b:2113,c:2113?tls=false`, … */
  readonly connectionString: string;
  /** Deadline of each call in ms (the connection string's `defaultDeadline` wins if it sets one). */
  readonly deadlineMs?: number;
}

const toRaw = (resolved: ResolvedEvent): RawEvent | null => {
  const e = resolved.event;
  if (!e) return null;
  return { streamId: e.streamId, id: e.id, revision: e.revision, type: e.type, created: e.created, data: e.data, metadata: e.metadata, position: e.position };
};

const collect = async (read: AsyncIterable<ResolvedEvent>): Promise<RawEvent[]> => {
  const out: RawEvent[] = [];
  for await (const resolved of read) {
    const raw = toRaw(resolved);
    if (raw) out.push(raw);
  }
  return out;
};

export const createEsdbClient = (options: EsdbClientOptions): EsdbClient => {
  // v6 parses esdb:// and esdb+discover:// only; the KurrentDB spellings mean the same here
  let cs = options.connectionString.replace(/^(kurrentdb|kurrent)(\+discover)?:\/\//, (_, _k, d: string | undefined) => `esdb${d ?? ''}://`);
  // a call must not wait forever for an unreachable cluster: a deadline unless the URL sets one
  if (!/[?&]defaultDeadline=/i.test(cs)) cs += `${cs.includes('?') ? '&' : '?'}defaultDeadline=${options.deadlineMs ?? 10_000}`;
  const client = EventStoreDBClient.connectionString(cs);

  return {
    async append(streamId, events, expected) {
      const result = await client.appendToStream(
        streamId,
        events.map((e) => ({ id: e.id, contentType: 'application/json' as const, type: e.type, data: e.data as never, metadata: e.metadata as never })),
        { expectedRevision: expected },
      );
      return { nextRevision: result.nextExpectedRevision, position: result.position };
    },

    readStream(streamId, o) {
      return collect(client.readStream(streamId, { fromRevision: o.from, maxCount: o.maxCount, direction: o.backwards ? 'backwards' : 'forwards' }));
    },

    readAll(o) {
      return collect(client.readAll({ fromPosition: o.from, maxCount: o.maxCount, direction: o.backwards ? 'backwards' : 'forwards' }));
    },

    subscribeToAll(o) {
      const sub: AllStreamSubscription = client.subscribeToAll({
        fromPosition: o.from,
        filter: eventTypeFilter({ regex: o.filterRegex }),
      });
      let ended = false;
      const endListeners: ((err: Error | null) => void)[] = [];
      const end = (err: Error | null) => {
        if (ended) return;
        ended = true;
        for (const l of endListeners) l(err);
      };
      sub.on('error', (err) => end(err));
      sub.on('end', () => end(null));
      sub.on('close', () => end(null));
      return {
        onEvent(listener) {
          sub.on('data', (resolved) => {
            const raw = toRaw(resolved);
            if (raw) listener(raw);
          });
        },
        onEnd(listener) {
          endListeners.push(listener);
        },
        pause: () => void sub.pause(),
        resume: () => void sub.resume(),
        async stop() {
          ended = true;
          await sub.unsubscribe().catch(() => {});
        },
      };
    },

    async close() {
      await client.dispose();
    },
  };
};
