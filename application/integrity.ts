import { unavailable } from '../domain/errors.ts';
import {
  applyChanges, buildCheckpoint, CHECKPOINT_STREAM, foldCheckpoints, isCheckpoint, merkleRootInSteps, statementHash, statementMessage,
  type Checkpoint, type IntegrityProblem, type SignatureCheck, type Signer, type StreamHeadEntry,
} from '../domain/integrity/checkpoint.ts';
import { createChainWalk } from '../domain/integrity/chain.ts';
import type { EventStore, Position, RecordedEvent } from './eventStore.ts';
import type { Clock } from './ports.ts';

/**
 * Integrity checkpoints and verification over the event store. What is specific to a store (the
 * heads of every stream at a position, the log in stream order) comes through `IntegrityLog`; the
 * PostgreSQL one is infrastructure/integrity/postgresLog.ts.
 */
export interface IntegrityLog {
  /** The position of the last event readers can see now (null: empty log). */
  headPosition(): Promise<Position | null>;
  /** The newest (revision, hash) of each stream among the events in (after, upTo], the checkpoint stream excepted. */
  headsBetween(after: Position | null, upTo: Position): Promise<StreamHeadEntry[]>;
  /** Every event (or one stream's) in stream order: stream id, then revision; pages of any size. */
  walk(options?: { streamId?: string | undefined }): AsyncIterable<readonly RecordedEvent[]>;
  comparePositions(a: Position, b: Position): number;
}

export const CHECKPOINT_EVENT = 'IntegrityCheckpointCreated';

export interface CheckpointActor {
  readonly id: string;
  readonly role: string;
  readonly sourceAddress?: string | undefined;
  readonly correlationId?: string | undefined;
  readonly clientApp?: string | undefined;
}

export const checkpointerActor: CheckpointActor = { id: 'govcase-integrity-checkpointer', role: 'system', clientApp: 'govcase' };

/** Every checkpoint stored, oldest first. */
export const readCheckpoints = async (store: EventStore): Promise<Checkpoint[]> => {
  const out: Checkpoint[] = [];
  for (let from = 0; ; ) {
    const page = await store.readStream(CHECKPOINT_STREAM, { fromRevision: from, limit: 10_000 });
    for (const e of page) out.push(e.data as Checkpoint);
    if (page.length < 10_000) return out;
    from = page[page.length - 1]!.revision + 1;
  }
};

/** Checkpoints `fromSequence`… (at most `count`), oldest first. */
export const readCheckpointRange = async (store: EventStore, fromSequence: number, count: number): Promise<Checkpoint[]> => {
  const out: Checkpoint[] = [];
  for (let from = Math.max(0, fromSequence - 1); out.length < count; ) {
    const page = await store.readStream(CHECKPOINT_STREAM, { fromRevision: from, limit: Math.min(10_000, count - out.length) });
    for (const e of page) out.push(e.data as Checkpoint);
    if (page.length === 0) break;
    from = page[page.length - 1]!.revision + 1;
  }
  return out;
};

/**
 * What a verification needs: the stored checkpoints from the second-newest full one on (a signature
 * problem in the newest segment still leaves a trusted checkpoint before it), oldest first.
 */
export const readRecentCheckpoints = async (store: EventStore): Promise<Checkpoint[]> => {
  const newestFirst: Checkpoint[] = [];
  let fulls = 0;
  for (let from: number | undefined; fulls < 2; ) {
    const page = await store.readStream(CHECKPOINT_STREAM, { direction: 'backwards', limit: 1_000, ...(from !== undefined ? { fromRevision: from } : {}) });
    for (const e of page) {
      newestFirst.push(e.data as Checkpoint);
      if ((e.data as Checkpoint | null)?.full === true && ++fulls === 2) break;
    }
    const last = page[page.length - 1];
    if (!last || last.revision === 0) break;
    from = last.revision - 1;
  }
  return newestFirst.reverse();
};

export const latestCheckpoints = async (store: EventStore, last: number): Promise<Checkpoint[]> =>
  (await store.readStream(CHECKPOINT_STREAM, { direction: 'backwards', limit: last })).map((e) => e.data as Checkpoint);

export interface Checkpointer {
  readonly publicKey: string;
  /** Signs and appends a checkpoint of the log as it is now. With `onlyIfMoved`, nothing (null) when no stream moved. */
  create(options?: { onlyIfMoved?: boolean; actor?: CheckpointActor }): Promise<Checkpoint | null>;
}

/** One turn of the event loop: requests waiting behind a long computation are served in between. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export const createCheckpointer = (deps: {
  readonly store: EventStore;
  readonly log: IntegrityLog;
  readonly signer: Signer;
  readonly check: SignatureCheck;
  readonly clock: Clock;
  /** Every this many checkpoints one records every head (default 1,000): verification reads from the last full ones on. */
  readonly fullEvery?: number;
}): Checkpointer => {
  const fullEvery = Math.max(1, deps.fullEvery ?? 1_000);
  const { store, log, signer } = deps;
  // the heads at the last checkpoint this process signed (or checked), so the next needs only the delta
  let cached: { readonly checkpoint: Checkpoint; readonly id: string; readonly heads: Map<string, StreamHeadEntry> } | null = null;
  let queue: Promise<unknown> = Promise.resolve();

  const baseFor = async (latest: Checkpoint | null): Promise<Map<string, StreamHeadEntry>> => {
    if (!latest) return new Map();
    const id = statementHash(latest);
    if (cached?.id === id) return cached.heads;
    // never sign on top of a checkpoint we cannot vouch for, nor on top of a log that no longer matches it
    if (!isCheckpoint(latest) || !deps.check(statementMessage(latest), latest.signature, signer.publicKey))
      throw unavailable(`integrity checkpoint ${latest.sequence ?? '?'} is not signed by this server's key: run \`govcase verify\``);
    const heads = new Map((await log.headsBetween(null, latest.position)).map((h) => [h.streamId, h] as const));
    if ((await merkleRootInSteps([...heads.values()], turn)) !== latest.merkleRoot)
      throw unavailable(`the log no longer matches integrity checkpoint ${latest.sequence}: refusing to sign over it; run \`govcase verify\``);
    cached = { checkpoint: latest, id, heads };
    return heads;
  };

  const createNow = async (options: { onlyIfMoved?: boolean; actor?: CheckpointActor }): Promise<Checkpoint | null> => {
    const [latestEvent] = await store.readStream(CHECKPOINT_STREAM, { direction: 'backwards', limit: 1 });
    const latest = (latestEvent?.data as Checkpoint | undefined) ?? null;
    const previousHeads = await baseFor(latest);
    const visible = (await log.headPosition()) ?? '';
    const behind = latest !== null && latest.position !== '' && (visible === '' || log.comparePositions(visible, latest.position) <= 0);
    // never cover less than the previous checkpoint did
    const position = behind ? latest.position : visible;
    const moved = position === '' || behind ? [] : await log.headsBetween(latest && latest.position !== '' ? latest.position : null, position);
    const heads = applyChanges(previousHeads, moved);
    const changed = moved.some((h) => {
      const b = previousHeads.get(h.streamId);
      return !b || b.revision !== h.revision || b.hash !== h.hash;
    });
    if (options.onlyIfMoved && latest && !changed) return null;
    const actor = options.actor ?? checkpointerActor;
    const now = deps.clock.now().toISOString();
    // the root over every head, computed in steps: a large log's tree must not hold the event loop
    const root = await merkleRootInSteps([...heads.values()], turn);
    const checkpoint = buildCheckpoint({
      previous: latest, previousHeads, heads, position, createdAt: now, signer, merkleRoot: root,
      // checkpoint n is full when (n - 1) is a multiple of fullEvery: 1, 1001, 2001…
      full: (latest?.sequence ?? 0) % fullEvery === 0,
    });
    await store.appendToStream(CHECKPOINT_STREAM, [{
      type: CHECKPOINT_EVENT,
      data: checkpoint,
      metadata: {
        actorId: actor.id, actorRole: actor.role, sourceAddress: actor.sourceAddress, correlationId: actor.correlationId,
        clientApp: actor.clientApp, occurredAt: now, reason: options.onlyIfMoved ? 'periodic integrity checkpoint' : 'integrity checkpoint on demand',
      },
    }], { expectedVersion: latestEvent ? latestEvent.revision : 'no_stream' });
    cached = { checkpoint, id: statementHash(checkpoint), heads };
    return checkpoint;
  };

  return {
    publicKey: signer.publicKey,
    create(options = {}) {
      // one at a time in this process; across processes the stream's expected version decides
      const run = queue.then(() => createNow(options));
      queue = run.catch(() => {});
      return run;
    },
  };
};

// ---- verification --------------------------------------------------------------------------------

export interface VerifyProgress {
  readonly events: number;
  readonly streams: number;
  readonly seconds: number;
  readonly eventsPerSec: number;
}

export interface IntegrityReport {
  readonly ok: boolean;
  readonly streamsChecked: number;
  readonly eventsChecked: number;
  /** The trusted checkpoint the log was compared with (null: none, so only the hash chains were checked). */
  readonly checkpoint: { readonly sequence: number; readonly position: string; readonly createdAt: string; readonly streams: number } | null;
  readonly checkpointsRead: number;
  /** Checkpoint problems first, then stream problems in stream order. */
  readonly problems: readonly IntegrityProblem[];
  /** The first broken stream and revision (the first stream problem). */
  readonly brokenStreamId: string | null;
  readonly brokenRevision: number | null;
  readonly seconds: number;
  readonly eventsPerSec: number;
  readonly checkedAt: string;
}

export interface VerifyOptions {
  readonly store: EventStore;
  readonly log: IntegrityLog;
  /** The trusted public key (hex, uncompressed SM2 point). */
  readonly publicKey: string;
  readonly check: SignatureCheck;
  /** Checkpoints kept outside the database (an export); compared with the stored ones too. Default: the stored ones. */
  readonly checkpoints?: readonly unknown[] | undefined;
  readonly streamId?: string | undefined;
  readonly onProgress?: ((p: VerifyProgress) => void) | undefined;
  readonly progressEveryMs?: number;
  readonly now?: () => Date;
}

export const verifyIntegrity = async (options: VerifyOptions): Promise<IntegrityReport> => {
  const started = performance.now();
  const series = options.checkpoints ?? await readRecentCheckpoints(options.store);
  const folded = foldCheckpoints(series, options.publicKey, options.check);
  const problems: IntegrityProblem[] = [...folded.problems];
  if (options.checkpoints) {
    // the outside copy is the reference: the stored series must contain it unchanged
    const first = options.checkpoints[0];
    const stored = isCheckpoint(first) ? await readCheckpointRange(options.store, first.sequence, options.checkpoints.length) : [];
    for (const [i, c] of options.checkpoints.entries()) {
      if (!isCheckpoint(c)) break;
      const s = stored[i];
      if (!s || !isCheckpoint(s) || statementHash(s) !== statementHash(c) || s.signature !== c.signature) {
        problems.push({ kind: 'BROKEN_CHECKPOINT_CHAIN', streamId: CHECKPOINT_STREAM, revision: c.sequence - 1, sequence: c.sequence,
          detail: s ? `the stored checkpoint ${c.sequence} differs from the exported one` : `the stored checkpoint ${c.sequence} is gone` });
        break;
      }
    }
  }
  const trusted = folded.trusted;
  const walk = createChainWalk({
    heads: folded.heads, anchors: folded.anchors, onlyStream: options.streamId,
    ...(trusted ? { isCovered: (p: string) => trusted.position !== '' && options.log.comparePositions(p, trusted.position) <= 0 } : {}),
  });
  const every = options.progressEveryMs ?? 1_000;
  let lastProgress = performance.now();
  const progress = (): VerifyProgress => {
    const seconds = (performance.now() - started) / 1_000;
    return { events: walk.events, streams: walk.streams, seconds, eventsPerSec: Math.round(walk.events / Math.max(seconds, 1e-6)) };
  };
  for await (const page of options.log.walk({ streamId: options.streamId })) {
    for (const e of page) walk.push(e);
    if (options.onProgress && performance.now() - lastProgress >= every) {
      lastProgress = performance.now();
      options.onProgress(progress());
    }
  }
  const result = walk.finish();
  problems.push(...result.problems);
  const firstStream = result.problems[0] ?? null;
  const p = progress();
  return {
    ok: problems.length === 0,
    streamsChecked: result.streams,
    eventsChecked: result.events,
    checkpoint: trusted ? { sequence: trusted.sequence, position: trusted.position, createdAt: trusted.createdAt, streams: trusted.streams } : null,
    checkpointsRead: folded.count,
    problems,
    brokenStreamId: firstStream?.streamId ?? null,
    brokenRevision: firstStream?.revision ?? null,
    seconds: p.seconds,
    eventsPerSec: p.eventsPerSec,
    checkedAt: (options.now?.() ?? new Date()).toISOString(),
  };
};
