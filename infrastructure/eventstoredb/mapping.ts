import { GovcaseError, unavailable, validationFailed } from '../../domain/errors.ts';
import type { AdapterAppendResult, CommandRecord, EventMetadata, Position, PreparedEvent, RecordedEvent } from '../../application/eventStore.ts';

/**
 * Pure translations between govcase's event-store port and EventStoreDB's model. Nothing here imports
 * the client package: the shapes it reads (`RawEvent`, errors with a `type` field) are the ones both
 * `@eventstore/db-client` 6 and `@kurrent/kurrentdb-client` 1 produce, so the client swap stays in
 * `client.ts`.
 *
 * Positions. EventStoreDB orders `$all` by a pair of transaction-file offsets (commit, prepare),
 * compared commit first, then prepare. Our opaque cursor is `esdb:<commit>/<prepare>` (decimal, no
 * padding), e.g. `esdb:18734/18734`. The PostgreSQL adapter's cursor is `<txid>:<position>`; the two
 * never parse as each other, so a checkpoint taken on one store is refused by the other
 * (VALIDATION_FAILED) rather than silently misread. After moving stores, rebuild the projections.
 *
 * Revisions. Our versions are numbers, the stream's last revision, -1 for "no stream"; EventStoreDB's
 * are bigints with `no_stream` / `any` markers. Revisions above 2^53 cannot occur for a case stream
 * and are refused rather than rounded.
 */

/** An event as the client hands it over (one of `$all` or of a stream). */
export interface RawEvent {
  readonly streamId: string;
  readonly id: string;
  readonly revision: bigint;
  readonly type: string;
  readonly created: Date;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly position?: { readonly commit: bigint; readonly prepare: bigint } | undefined;
}

export interface EsdbPosition {
  readonly commit: bigint;
  readonly prepare: bigint;
}

export type EsdbExpectedRevision = bigint | 'no_stream' | 'any';

// --- positions -------------------------------------------------------------------------------

const POSITION_RE = /^esdb:(\d{1,20})\/(\d{1,20})$/;

export const formatPosition = (p: EsdbPosition): Position => `esdb:${p.commit.toString(10)}/${p.prepare.toString(10)}`;

/** Null/empty means "from the beginning"; anything else must be one of our cursors. */
export const parsePosition = (p: Position | null | undefined): EsdbPosition | null => {
  if (p === null || p === undefined || p === '') return null;
  const m = POSITION_RE.exec(p);
  if (!m) throw validationFailed('position', `not a position of this store (EventStoreDB positions look like esdb:<commit>/<prepare>): ${p.slice(0, 50)}`);
  return { commit: BigInt(m[1]!), prepare: BigInt(m[2]!) };
};

export const compareEsdbPositions = (a: EsdbPosition, b: EsdbPosition): number =>
  a.commit !== b.commit ? (a.commit < b.commit ? -1 : 1) : a.prepare === b.prepare ? 0 : a.prepare < b.prepare ? -1 : 1;

/** Total order of two of our cursors; the beginning (null/empty) sorts before everything. */
export const comparePositions = (a: Position, b: Position): number => {
  const x = parsePosition(a), y = parsePosition(b);
  if (!x || !y) return x ? 1 : y ? -1 : 0;
  return compareEsdbPositions(x, y);
};

// --- versions and revisions --------------------------------------------------------------------

/** Our expected version (exact number, -1 = no stream, or the markers) → the client's expected revision. */
export const toExpectedRevision = (version: number | 'any' | 'no_stream'): EsdbExpectedRevision => {
  if (version === 'any' || version === 'no_stream') return version;
  if (!Number.isSafeInteger(version) || version < -1) throw validationFailed('expectedVersion', 'a whole number ≥ -1, "any" or "no_stream"');
  return version === -1 ? 'no_stream' : BigInt(version);
};

export const revisionToNumber = (revision: bigint): number => {
  if (revision < 0n || revision > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`revision ${revision} is outside the safe range`);
  return Number(revision);
};

/** The stream's current revision as EventStoreDB reports it in a conflict → our version (-1: no stream). */
export const fromCurrentRevision = (current: bigint | 'no_stream' | string | undefined): number => {
  if (current === undefined || current === 'no_stream') return -1;
  if (typeof current === 'bigint') return revisionToNumber(current);
  // older servers report the string form of a number
  return /^\d+$/.test(current) ? revisionToNumber(BigInt(current)) : -1;
};

/** A forwards read from our revision (the first to return) or backwards from it (inclusive). */
export const toReadRevision = (fromRevision: number | undefined, backwards: boolean): bigint | 'start' | 'end' => {
  if (fromRevision === undefined || fromRevision >= Number.MAX_SAFE_INTEGER) return backwards ? 'end' : 'start';
  if (!Number.isSafeInteger(fromRevision) || fromRevision < 0) throw validationFailed('fromRevision', 'a whole number ≥ 0');
  return BigInt(fromRevision);
};

// --- events --------------------------------------------------------------------------------------

/**
 * What we put in an EventStoreDB event's metadata: the hash chain and our metadata (the event's
 * data is stored as is, so the EventStoreDB UI shows it). `append` is a random id per append
 * attempt, how the adapter tells its own write from one EventStoreDB deduplicated; it is not part
 * of the hash and not exported. `$correlationId`/`$causationId` feed EventStoreDB's own projections.
 */
export interface Envelope {
  readonly govcase: 1;
  readonly hash: string;
  readonly previousHash: string | null;
  readonly metadata: EventMetadata;
  readonly append?: string;
  readonly $correlationId?: string;
  readonly $causationId?: string;
}

export const toEnvelope = (e: PreparedEvent, appendId: string): Envelope => {
  const env: Envelope = { govcase: 1, hash: e.hash, previousHash: e.previousHash, metadata: e.metadata, append: appendId };
  const correlation = e.metadata.correlationId ?? e.metadata.commandId;
  return {
    ...env,
    ...(correlation ? { $correlationId: correlation } : {}),
    ...(e.metadata.causationId ? { $causationId: e.metadata.causationId } : {}),
  };
};

export const isEnvelope = (m: unknown): m is Envelope =>
  typeof m === 'object' && m !== null && (m as { govcase?: unknown }).govcase === 1 && typeof (m as { hash?: unknown }).hash === 'string'
  && typeof (m as { metadata?: unknown }).metadata === 'object';

/** The client event → ours. Throws on an event that is not one of ours (no envelope). */
export const toRecorded = (raw: RawEvent): RecordedEvent => {
  if (!isEnvelope(raw.metadata)) throw new Error(`event ${raw.id} in ${raw.streamId} was not written by govcase (no govcase metadata)`);
  if (!raw.position) throw new Error(`event ${raw.id} in ${raw.streamId} has no position (EventStoreDB 22.6 or later is required)`);
  return {
    id: raw.id,
    streamId: raw.streamId,
    revision: revisionToNumber(raw.revision),
    position: formatPosition(raw.position),
    type: raw.type,
    data: raw.data === undefined ? null : raw.data,
    metadata: raw.metadata.metadata,
    recordedAt: raw.created.toISOString(),
    hash: raw.metadata.hash,
    previousHash: raw.metadata.previousHash,
  };
};

export const appendIdOf = (raw: RawEvent): string | undefined => (isEnvelope(raw.metadata) ? raw.metadata.append : undefined);

// --- idempotency: command claims -------------------------------------------------------------------

/**
 * `findCommand` on EventStoreDB. There is no index by event id, and no atomic write across two
 * streams in EventStoreDB 24.10, so each append that carries a commandId first writes a *claim* to
 * `govcase-command-<commandId>` ({ streamId, fromRevision, count, firstEventId }), then appends the
 * events. A claim alone proves nothing (the append may have lost its race); the command is recorded
 * only if the claimed stream holds, at the claimed revision, the event whose deterministic id is
 * `firstEventId`. Claim first, append second: anyone who can see the events can see the claim.
 */
export const COMMAND_STREAM_PREFIX = 'govcase-command-';
export const COMMAND_CLAIM_TYPE = 'govcase.CommandClaimed';

export const commandStreamName = (commandId: string) => `${COMMAND_STREAM_PREFIX}${commandId}`;

export interface CommandClaim {
  readonly streamId: string;
  readonly fromRevision: number;
  readonly count: number;
  readonly firstEventId: string;
}

export const isCommandClaim = (d: unknown): d is CommandClaim =>
  typeof d === 'object' && d !== null && typeof (d as CommandClaim).streamId === 'string'
  && Number.isSafeInteger((d as CommandClaim).fromRevision) && Number.isSafeInteger((d as CommandClaim).count)
  && typeof (d as CommandClaim).firstEventId === 'string';

/** The claim → the command's record, given the events found at the claimed revisions (or null). */
export const commandRecordOf = (commandId: string, claim: CommandClaim, found: readonly RecordedEvent[]): CommandRecord | null => {
  const first = found[0];
  const last = found[claim.count - 1];
  if (!first || !last || first.id !== claim.firstEventId || first.revision !== claim.fromRevision) return null;
  return { commandId, streamId: claim.streamId, fromRevision: first.revision, toRevision: last.revision, position: last.position };
};

// --- what readers of $all see ----------------------------------------------------------------------

/** System events (`$`-typed, `$`-streams, links) and our claims are not part of the case log. */
export const isExcluded = (streamId: string, type: string): boolean =>
  type.startsWith('$') || streamId.startsWith('$') || streamId.startsWith(COMMAND_STREAM_PREFIX) || type === COMMAND_CLAIM_TYPE;

/** The events of `raws` after `cursor` (a re-read or re-subscription may repeat some), minus excluded and foreign ones. */
export const eventsAfter = (
  raws: readonly RawEvent[], cursor: EsdbPosition | null, types?: readonly string[],
): { events: RecordedEvent[]; cursor: EsdbPosition | null } => {
  const events: RecordedEvent[] = [];
  let at = cursor;
  for (const raw of raws) {
    if (!raw.position || (at && compareEsdbPositions(raw.position, at) <= 0)) continue;
    at = raw.position;
    if (isExcluded(raw.streamId, raw.type) || !isEnvelope(raw.metadata)) continue;
    if (types && types.length > 0 && !types.includes(raw.type)) continue;
    events.push(toRecorded(raw));
  }
  return { events, cursor: at };
};

/**
 * After a successful append, the events read back at its revisions say what happened: our append id
 * → we wrote them; the same deterministic first id under another append id → EventStoreDB
 * deduplicated a repeat of the command, answered with the first write's record.
 */
export const classifyReadBack = (
  stored: readonly RawEvent[], written: readonly PreparedEvent[], appendId: string, commandId: string | undefined,
): AdapterAppendResult | Error => {
  const first = written[0]!;
  const recorded = stored.map(toRecorded);
  if (stored.length === written.length && appendIdOf(stored[0]!) === appendId) return { status: 'ok', events: recorded };
  if (commandId && recorded.length === written.length && recorded[0]!.id === first.id) {
    const last = recorded[recorded.length - 1]!;
    return { status: 'duplicate', record: { commandId, streamId: first.streamId, fromRevision: recorded[0]!.revision, toRevision: last.revision, position: last.position } };
  }
  return new Error(`append to ${first.streamId}: the events read back at revision ${first.revision} are not the ones written`);
};

/** The same rule as a server-side event-type filter (.NET regex) for subscriptions to `$all`. */
export const ALL_FILTER_REGEX = `^(?!\\$|${COMMAND_CLAIM_TYPE.replace(/\./g, '\\.')}$)`;

/** Stream names we reserve; appending to them through the port is refused. */
export const isReservedStream = (streamId: string): boolean => streamId.startsWith('$') || streamId.startsWith(COMMAND_STREAM_PREFIX);

// --- errors ----------------------------------------------------------------------------------------

export type TranslatedError =
  | { readonly kind: 'conflict'; readonly actualVersion: number }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'error'; readonly error: unknown };

const UNAVAILABLE_TYPES = new Set(['unavailable', 'deadline-exceeded', 'timeout', 'not-leader']);

/**
 * A client error → ours: a wrong expected version becomes a conflict with the actual version; a
 * cluster that cannot be reached (no connection, deadline, discovery failing, no leader) becomes
 * UNAVAILABLE; a missing stream becomes "not found" (the caller decides what that means); an append
 * over the cluster's size limit is refused as VALIDATION_FAILED; anything else passes through.
 */
export const translateError = (err: unknown, what: string): TranslatedError => {
  if (err instanceof GovcaseError) return { kind: 'error', error: err };
  const e = err as { type?: unknown; message?: unknown; actualVersion?: unknown; code?: unknown } | null;
  const type = typeof e?.type === 'string' ? e.type : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (type === 'wrong-expected-version')
    return { kind: 'conflict', actualVersion: fromCurrentRevision(e!.actualVersion as bigint | 'no_stream' | undefined) };
  if (type === 'stream-not-found') return { kind: 'not_found' };
  if (type === 'maximum-append-size-exceeded')
    return { kind: 'error', error: validationFailed('events', 'the append is larger than the EventStoreDB cluster accepts (MaxAppendSize)') };
  if ((type && UNAVAILABLE_TYPES.has(type)) || /Failed to discover|No connection established|12 UNIMPLEMENTED: Received HTTP status code|ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|14 UNAVAILABLE|4 DEADLINE_EXCEEDED/i.test(message))
    return { kind: 'error', error: unavailable(`EventStoreDB is unavailable (${what}): ${message.split('\n')[0]!.replace(/\s*Resolution note:.*$/, '')}`, { cause: type ?? 'connection' }) };
  return { kind: 'error', error: err };
};

/** `translateError` for callers that only want something to throw. */
export const toThrowable = (err: unknown, what: string): unknown => {
  const t = translateError(err, what);
  if (t.kind === 'conflict') return new GovcaseError('CONCURRENCY_CONFLICT', `wrong expected version (${what})`, { actualVersion: t.actualVersion });
  if (t.kind === 'not_found') return err;
  return t.error;
};

export const isUnavailable = (err: unknown): boolean => err instanceof GovcaseError && err.code === 'UNAVAILABLE';
