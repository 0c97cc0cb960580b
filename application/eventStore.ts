import { randomUUID } from 'node:crypto';
import { concurrencyConflict, validationFailed } from '../domain/errors.ts';
import { eventHash, uuidFromName } from '../domain/integrity.ts';

/**
 * The event-store port: one interface, two adapters (PostgreSQL, EventStoreDB), one contract suite.
 * Hash chaining and idempotency bookkeeping live here, above the adapters, so both behave alike.
 */

/** Opaque global position: compare only with `comparePositions`, never as strings. */
export type Position = string;

export interface EventMetadata {
  readonly actorId: string;
  readonly actorRole: string;
  readonly departmentCode?: string | undefined;
  readonly commandId?: string | undefined;
  readonly correlationId?: string | undefined;
  readonly causationId?: string | undefined;
  readonly reason?: string | undefined;
  readonly clientApp?: string | undefined;
  readonly sourceAddress?: string | undefined;
  readonly occurredAt: string;
  readonly [key: string]: unknown;
}

export interface NewEvent {
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

export interface RecordedEvent {
  readonly id: string;
  readonly streamId: string;
  readonly revision: number;
  readonly position: Position;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
  readonly recordedAt: string;
  readonly hash: string;
  readonly previousHash: string | null;
}

/** `no_stream` (or -1): the stream must not exist; `any`: append after whatever the head is. */
export type ExpectedVersion = number | 'any' | 'no_stream';

export interface StreamHead {
  readonly version: number;
  readonly hash: string;
}

export interface AppendOptions {
  readonly expectedVersion?: ExpectedVersion;
  /** The head the caller folded from (saves a read); must agree with `expectedVersion`. */
  readonly head?: StreamHead | null;
  /** Idempotency key: a repeat returns the first result and appends nothing. */
  readonly commandId?: string;
}

export interface AppendResult {
  readonly streamId: string;
  /** Revision of the stream's last event after the append (of the first append, on a repeat). */
  readonly version: number;
  readonly position: Position;
  /** The events appended; empty on an idempotent repeat. */
  readonly events: readonly RecordedEvent[];
  readonly duplicate: boolean;
}

export interface CommandRecord {
  readonly commandId: string;
  readonly streamId: string;
  readonly fromRevision: number;
  readonly toRevision: number;
  readonly position: Position;
}

export interface ReadStreamOptions {
  readonly fromRevision?: number;
  readonly limit?: number;
  readonly direction?: 'forwards' | 'backwards';
}

export interface ReadAllOptions {
  /** Exclusive cursor; omitted = from the beginning. */
  readonly after?: Position | null;
  readonly limit?: number;
  readonly types?: readonly string[];
}

export interface EventPage {
  readonly events: readonly RecordedEvent[];
  readonly lastPosition: Position | null;
  readonly hasMore: boolean;
}

export interface SubscribeOptions {
  readonly after?: Position | null;
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
}

/** A prepared event, hashed and numbered, as an adapter stores it. */
export interface PreparedEvent extends Omit<RecordedEvent, 'position' | 'recordedAt'> {}

export type AdapterAppendResult =
  | { readonly status: 'ok'; readonly events: readonly RecordedEvent[] }
  | { readonly status: 'conflict'; readonly actualVersion: number }
  | { readonly status: 'duplicate'; readonly record: CommandRecord };

/** What an adapter implements: storage only. Versions are exact here (-1: no stream). */
export interface EventStoreAdapter {
  readonly name: string;
  append(streamId: string, events: readonly PreparedEvent[], expectedVersion: number, commandId: string | undefined): Promise<AdapterAppendResult>;
  streamHead(streamId: string): Promise<StreamHead | null>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<EventPage>;
  /** Catch-up, then live: pages of events in global order, each exactly once, until aborted. */
  subscribeToAll(options?: SubscribeOptions): AsyncIterable<readonly RecordedEvent[]>;
  findCommand(commandId: string): Promise<CommandRecord | null>;
  /** The position of the last event readers can see now (null for an empty log): where "live" starts. */
  headPosition(): Promise<Position | null>;
  /** Total order of two positions of this adapter: negative, zero or positive. */
  comparePositions(a: Position, b: Position): number;
  close(): Promise<void>;
}

export interface EventStore extends Omit<EventStoreAdapter, 'append'> {
  appendToStream(streamId: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;
}

const MAX_ANY_RETRIES = 5;

/** Wraps an adapter with the hash chain, expected-version semantics and idempotency results. */
export const createEventStore = (adapter: EventStoreAdapter): EventStore => {
  const prepare = (streamId: string, head: StreamHead | null, events: readonly NewEvent[], commandId?: string): PreparedEvent[] => {
    let previousHash = head?.hash ?? null;
    let revision = head?.version ?? -1;
    return events.map((e, i) => {
      revision += 1;
      const id = commandId ? uuidFromName(`${commandId}/${i}`) : randomUUID();
      const hash = eventHash(previousHash, { streamId, revision, type: e.type, data: e.data, metadata: e.metadata });
      const prepared: PreparedEvent = { id, streamId, revision, type: e.type, data: e.data, metadata: e.metadata, hash, previousHash };
      previousHash = hash;
      return prepared;
    });
  };

  const duplicateResult = (record: CommandRecord, streamId: string): AppendResult => {
    if (record.streamId !== streamId)
      throw validationFailed('commandId', 'this commandId was already used for a command on another stream', { streamId: record.streamId });
    return { streamId, version: record.toRevision, position: record.position, events: [], duplicate: true };
  };

  const appendToStream = async (streamId: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> => {
    if (!/^[^\s]{1,200}$/.test(streamId)) throw validationFailed('streamId', '1-200 characters without spaces');
    if (events.length === 0) throw validationFailed('events', 'at least one event');
    if (events.length > 1000) throw validationFailed('events', 'at most 1,000 events in one append');
    const commandId = options.commandId;
    const expected = options.expectedVersion === undefined ? 'any' : options.expectedVersion === -1 ? 'no_stream' : options.expectedVersion;
    if (typeof expected === 'number' && (!Number.isInteger(expected) || expected < 0))
      throw validationFailed('expectedVersion', 'a whole number ≥ -1, "any" or "no_stream"');

    for (let attempt = 0; ; attempt++) {
      // 1. know the head: the chain continues from its hash
      let head: StreamHead | null;
      if (expected === 'no_stream') head = null;
      else if (options.head !== undefined && attempt === 0 && (expected === 'any' || options.head?.version === expected)) head = options.head;
      else head = await adapter.streamHead(streamId);
      if (typeof expected === 'number' && head?.version !== expected) {
        // a repeat of a command that already succeeded answers with its first result, not a conflict
        const record = commandId ? await adapter.findCommand(commandId) : null;
        if (record) return duplicateResult(record, streamId);
        throw concurrencyConflict(`stream ${streamId} is at version ${head?.version ?? -1}, expected ${expected}`, {
          streamId, expectedVersion: expected, actualVersion: head?.version ?? -1,
        });
      }
      // 2. hash and append, atomically, checking the version in the store
      const prepared = prepare(streamId, head, events, commandId);
      const result = await adapter.append(streamId, prepared, head?.version ?? -1, commandId);
      switch (result.status) {
        case 'ok': {
          const last = result.events[result.events.length - 1]!;
          return { streamId, version: last.revision, position: last.position, events: result.events, duplicate: false };
        }
        case 'duplicate':
          return duplicateResult(result.record, streamId);
        case 'conflict': {
          // a copy of this command that raced ahead (it held the stream's row) answers with its result
          const record = commandId ? await adapter.findCommand(commandId) : null;
          if (record) return duplicateResult(record, streamId);
          if (expected === 'any' && attempt < MAX_ANY_RETRIES) continue;
          throw concurrencyConflict(`stream ${streamId} is at version ${result.actualVersion}, expected ${head?.version ?? -1}`, {
            streamId, expectedVersion: typeof expected === 'number' ? expected : (head?.version ?? -1), actualVersion: result.actualVersion,
          });
        }
        default: {
          const never: never = result;
          return never;
        }
      }
    }
  };

  return {
    name: adapter.name,
    appendToStream,
    streamHead: (s) => adapter.streamHead(s),
    readStream: (s, o) => adapter.readStream(s, o),
    readAll: (o) => adapter.readAll(o),
    subscribeToAll: (o) => adapter.subscribeToAll(o),
    findCommand: (c) => adapter.findCommand(c),
    headPosition: () => adapter.headPosition(),
    comparePositions: (a, b) => adapter.comparePositions(a, b),
    close: () => adapter.close(),
  };
};
