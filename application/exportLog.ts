import { validationFailed } from '../domain/errors.ts';
import { eventHash } from '../domain/integrity.ts';
import { CHECKPOINT_STREAM } from '../domain/integrity/checkpoint.ts';
import type { EventMetadata, EventStore, EventStoreAdapter, Position, PreparedEvent, RecordedEvent } from './eventStore.ts';

/**
 * Moving the log between stores (PostgreSQL ⇄ EventStoreDB), adapter-neutral. The export is NDJSON:
 * a header line, one line per event in global order, a trailer line with the counts. The import
 * appends through the adapter (not the port), so ids, revisions, hashes and metadata arrive exactly
 * as exported; each stream's hash chain is verified line by line first, and a broken chain stops it.
 * Re-running an import is safe: what the target already holds (same hashes) is skipped.
 * Not carried over: positions (each store numbers its own log) and `recordedAt` (the target stamps
 * its own; the time of the act is in `metadata.occurredAt`, which the hash covers).
 */
export const EXPORT_FORMAT = 'govcase-event-log/v1';

export interface ExportHeader {
  readonly kind: 'header';
  readonly format: typeof EXPORT_FORMAT;
  readonly store: string;
  readonly after: Position | null;
  readonly exportedAt: string;
}

export interface ExportEvent {
  readonly kind: 'event';
  readonly streamId: string;
  readonly revision: number;
  readonly position: Position;
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
  readonly recordedAt: string;
  readonly hash: string;
  readonly previousHash: string | null;
}

export interface ExportTrailer {
  readonly kind: 'trailer';
  readonly events: number;
  /** streams that begin in this file (their revision 0 is in it); counted without remembering streams */
  readonly streamsStarted: number;
  readonly lastPosition: Position | null;
}

export interface TransferProgress {
  readonly events: number;
  readonly streamsStarted: number;
  /** import only: events the target already held */
  readonly skipped?: number;
}

export const toExportLine = (e: RecordedEvent): ExportEvent => ({
  kind: 'event', streamId: e.streamId, revision: e.revision, position: e.position, id: e.id, type: e.type, data: e.data,
  metadata: e.metadata, recordedAt: e.recordedAt, hash: e.hash, previousHash: e.previousHash,
});

/** Writes the log after `after` (exclusive) as NDJSON lines through `write` (one call per line, with its newline). */
export const exportLog = async (
  store: Pick<EventStore, 'readAll' | 'name'>,
  write: (line: string) => Promise<void> | void,
  options: { after?: Position | null; pageSize?: number; onProgress?: (p: TransferProgress) => void; now?: () => Date } = {},
): Promise<ExportTrailer> => {
  const after = options.after ?? null;
  const header: ExportHeader = { kind: 'header', format: EXPORT_FORMAT, store: store.name, after, exportedAt: (options.now?.() ?? new Date()).toISOString() };
  await write(`${JSON.stringify(header)}\n`);
  let events = 0, streamsStarted = 0;
  let cursor = after;
  for (;;) {
    const page = await store.readAll({ after: cursor, limit: options.pageSize ?? 5_000 });
    for (const e of page.events) {
      await write(`${JSON.stringify(toExportLine(e))}\n`);
      if (e.revision === 0) streamsStarted++;
      events++;
    }
    cursor = page.lastPosition;
    options.onProgress?.({ events, streamsStarted });
    if (!page.hasMore) break;
  }
  const trailer: ExportTrailer = { kind: 'trailer', events, streamsStarted, lastPosition: cursor };
  await write(`${JSON.stringify(trailer)}\n`);
  return trailer;
};

// --- import -------------------------------------------------------------------------------------------

const bad = (lineNo: number, message: string, details: Record<string, unknown> = {}) =>
  validationFailed(`line ${lineNo}`, message, { line: lineNo, ...details });

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** One line → a checked event, or a clear error naming the line. */
export const parseExportEvent = (raw: Record<string, unknown>, lineNo: number): ExportEvent => {
  if (!str(raw.streamId) || !str(raw.id) || !str(raw.type) || !str(raw.hash) || !Number.isSafeInteger(raw.revision) || (raw.revision as number) < 0)
    throw bad(lineNo, 'an event line needs streamId, id, type, hash and a revision ≥ 0');
  if (raw.previousHash !== null && !str(raw.previousHash)) throw bad(lineNo, 'previousHash must be a string or null');
  if (typeof raw.metadata !== 'object' || raw.metadata === null) throw bad(lineNo, 'metadata must be an object');
  return raw as unknown as ExportEvent;
};

interface StreamChain {
  revision: number;
  hash: string;
}

export interface ImportResult {
  readonly events: number;
  readonly imported: number;
  readonly skipped: number;
  readonly streamsStarted: number;
  /** events of the source's integrity-checkpoint stream: verified, not copied (the target signs its own) */
  readonly checkpointsNotCopied: number;
}

/**
 * Reads NDJSON lines (header, events, trailer) and appends them to `target`. Each stream's chain is
 * checked against the file (revision + 1, previousHash = the last hash, hash = SM3 of the event) and,
 * for a stream whose first line is not revision 0, against the target's head. A stream's consecutive
 * lines of one command go in one append, with that commandId, so the target records it for
 * idempotency too. Up to `concurrency` appends run at once, one at a time per stream.
 */
export const importLog = async (
  target: EventStoreAdapter,
  lines: AsyncIterable<string>,
  options: { concurrency?: number; maxChains?: number; onProgress?: (p: TransferProgress) => void } = {},
): Promise<ImportResult> => {
  const concurrency = Math.max(1, options.concurrency ?? 16);
  // the last hash of recently seen streams (least recently used dropped past maxChains, so a
  // province's log does not need every stream in memory); a dropped stream's chain continues from
  // the target's head, which holds what this import already appended
  const maxChains = Math.max(1, options.maxChains ?? 1_000_000);
  const chains = new Map<string, StreamChain>();
  const tails = new Map<string, Promise<void>>();
  const inflight = new Set<Promise<void>>();
  let failure: unknown = null;
  let lineNo = 0, events = 0, imported = 0, skipped = 0, streamsStarted = 0, checkpointsNotCopied = 0;
  let header: ExportHeader | null = null;
  let trailer: ExportTrailer | null = null;
  let run: { streamId: string; commandId: string | undefined; events: PreparedEvent[]; firstLine: number } | null = null;

  // 1. one run of a stream → the target, skipping what it already holds with the same hashes
  const appendRun = async (streamId: string, commandId: string | undefined, batch: readonly PreparedEvent[], firstLine: number) => {
    let rest = batch;
    for (let attempt = 0; rest.length > 0; attempt++) {
      const first = rest[0]!;
      const result = await target.append(streamId, rest, first.revision - 1, commandId);
      if (result.status === 'ok') {
        imported += rest.length;
        return;
      }
      if (attempt > 2) throw bad(firstLine, `stream ${streamId} keeps changing in the target while importing`);
      // the target already has (some of) these: they must be the same events
      const held = await target.readStream(streamId, { fromRevision: first.revision, limit: rest.length });
      if (result.status === 'conflict' && result.actualVersion < first.revision - 1)
        throw bad(firstLine, `the target's stream ${streamId} ends at revision ${result.actualVersion}, before this line's revision ${first.revision}: import the earlier events first`, { streamId });
      let same = 0;
      while (same < held.length && held[same]!.hash === rest[same]!.hash && held[same]!.id === rest[same]!.id) same++;
      if (same < held.length)
        throw bad(firstLine + same, `the target holds a different event at ${streamId} revision ${first.revision + same}: not the same log`, { streamId });
      if (result.status === 'duplicate' && same === 0)
        throw bad(firstLine, `commandId ${commandId} is already recorded in the target for another append (${result.record.streamId} @ ${result.record.fromRevision})`);
      skipped += same;
      rest = rest.slice(same);
      if (result.status === 'duplicate' && rest.length > 0) commandId = undefined; // the command is recorded; the rest is plain
    }
  };

  const flush = async () => {
    if (!run) return;
    const { streamId, commandId, events: batch, firstLine } = run;
    run = null;
    while (inflight.size >= concurrency) await Promise.race(inflight);
    if (failure) throw failure;
    const task: Promise<void> = (tails.get(streamId) ?? Promise.resolve())
      .then(() => (failure ? undefined : appendRun(streamId, commandId, batch, firstLine)))
      .catch((err: unknown) => { failure ??= err; })
      .finally(() => {
        inflight.delete(task);
        if (tails.get(streamId) === task) tails.delete(streamId);
      });
    tails.set(streamId, task);
    inflight.add(task);
  };

  // 2. the lines, in file order
  try {
    for await (const text of lines) {
      lineNo++;
      if (failure) break;
      if (text.trim() === '') continue;
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw bad(lineNo, 'not JSON');
      }
      if (lineNo === 1 || header === null) {
        if (raw.kind !== 'header' || raw.format !== EXPORT_FORMAT) throw bad(lineNo, `the file does not start with a ${EXPORT_FORMAT} header`);
        header = raw as unknown as ExportHeader;
        continue;
      }
      if (trailer) throw bad(lineNo, 'a line after the trailer');
      if (raw.kind === 'trailer') {
        trailer = raw as unknown as ExportTrailer;
        continue;
      }
      if (raw.kind !== 'event') throw bad(lineNo, `unknown line kind ${String(raw.kind).slice(0, 30)}`);
      const e = parseExportEvent(raw, lineNo);

      // the chain, from the file (or, for a stream that starts mid-way, from the target's head)
      let chain = chains.get(e.streamId);
      if (!chain && e.revision > 0) {
        await tails.get(e.streamId);
        const head = await target.streamHead(e.streamId);
        if (!head || head.version < e.revision - 1)
          throw bad(lineNo, `stream ${e.streamId} starts at revision ${e.revision} in the file but the target holds ${head ? `up to ${head.version}` : 'nothing'}: import the earlier part of the log first`);
        if (head.version === e.revision - 1) chain = { revision: head.version, hash: head.hash };
        else {
          const [held] = await target.readStream(e.streamId, { fromRevision: e.revision - 1, limit: 1 });
          chain = { revision: e.revision - 1, hash: held!.hash };
        }
      }
      const expectedRevision = chain ? chain.revision + 1 : 0;
      const expectedPrevious = chain ? chain.hash : null;
      if (e.revision !== expectedRevision) throw bad(lineNo, `stream ${e.streamId}: revision ${e.revision} where ${expectedRevision} was due`, { streamId: e.streamId });
      if (e.previousHash !== expectedPrevious)
        throw bad(lineNo, `broken hash chain in ${e.streamId} at revision ${e.revision}: previousHash does not match the hash of revision ${e.revision - 1}`, { streamId: e.streamId });
      if (eventHash(e.previousHash, e) !== e.hash)
        throw bad(lineNo, `broken hash chain in ${e.streamId} at revision ${e.revision}: the event does not hash to its recorded hash (altered?)`, { streamId: e.streamId });
      chains.delete(e.streamId);
      chains.set(e.streamId, { revision: e.revision, hash: e.hash });
      if (chains.size > maxChains) chains.delete(chains.keys().next().value!);
      if (e.revision === 0) streamsStarted++;
      events++;
      // the source's signed checkpoints vouch for the source's positions: checked above, not copied;
      // the target signs a series of its own
      if (e.streamId === CHECKPOINT_STREAM) {
        checkpointsNotCopied++;
        continue;
      }

      // group a stream's consecutive lines of one command into one append
      const prepared: PreparedEvent = { id: e.id, streamId: e.streamId, revision: e.revision, type: e.type, data: e.data, metadata: e.metadata, hash: e.hash, previousHash: e.previousHash };
      const commandId = typeof e.metadata.commandId === 'string' ? e.metadata.commandId : undefined;
      const current = run as typeof run;
      if (current && current.streamId === e.streamId && current.commandId === commandId && current.events.length < 1_000) current.events.push(prepared);
      else {
        await flush();
        run = { streamId: e.streamId, commandId, events: [prepared], firstLine: lineNo };
      }
      if (events % 5_000 === 0) options.onProgress?.({ events, streamsStarted, skipped });
    }
    if (!failure) await flush();
  } finally {
    // never leave appends running behind an error
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
  }
  if (failure) throw failure;
  if (!header) throw validationFailed('file', 'empty: no header line');
  if (!trailer) throw validationFailed('file', `no trailer line after ${lineNo} lines: the export is truncated (what was read has been imported; re-run with the complete file)`);
  if (trailer.events !== events)
    throw validationFailed('file', `the trailer counts ${trailer.events} events but the file holds ${events}`);
  options.onProgress?.({ events, streamsStarted, skipped });
  return { events, imported, skipped, streamsStarted, checkpointsNotCopied };
};
