import { unavailable } from '../domain/errors.ts';
import {
  CHECKPOINT_STREAM, compareStreamIds, foldCheckpoints, isCheckpoint, merkleAccumulator, merkleLeaf, merkleRoot, signCheckpoint, statementHash,
  statementMessage, type Checkpoint, type IntegrityProblem, type SignatureCheck, type Signer, type StreamHeadEntry,
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

/**
 * Every stream's head as of the newest checkpoint, kept beside the log (PostgreSQL: the
 * `integrity_heads` table), so that a checkpoint holds in memory only the heads that moved, however
 * many streams there are. What is stored is not trusted: the pass that computes a checkpoint's root
 * also recomputes the previous checkpoint's root from the stored heads and, when they differ (a crash
 * between a checkpoint's append and the heads' commit, a first run, tampering), the heads are taken
 * from the log again, and must then give the signed root.
 */
export interface CheckpointHeads {
  /** Runs `fn` with the heads to itself (across processes); what it wrote lasts only if `fn` resolves. */
  exclusive<T>(fn: (heads: HeadsSession) => Promise<T>): Promise<T>;
}

export interface HeadsSession {
  /** The stored heads of these streams (those there are). */
  get(streamIds: readonly string[]): Promise<StreamHeadEntry[]>;
  /** Every stored head, in pages, in stream-id order (`compareStreamIds`). */
  scan(): AsyncIterable<readonly StreamHeadEntry[]>;
  /** Stores these heads (insert or replace). */
  put(heads: readonly StreamHeadEntry[]): Promise<void>;
  /** Replaces every stored head with the log's heads at `position` (null: none). */
  reset(position: Position | null): Promise<void>;
}

/** One turn of the event loop: requests waiting behind a long computation are served in between. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The roots before and after a checkpoint's changes, from one pass over the stored heads. */
interface RootsPass {
  /** over the stored heads: must be the previous checkpoint's root */
  readonly before: string;
  /** over the stored heads with `moved` applied and `added` merged in */
  readonly after: string;
  readonly streams: number;
  /** every head after the changes, in order, when asked for (a full checkpoint records them all) */
  readonly all: StreamHeadEntry[] | null;
}

class OutOfOrder extends Error {}

const rootsFrom = async (
  pages: AsyncIterable<readonly StreamHeadEntry[]>, moved: ReadonlyMap<string, StreamHeadEntry>, added: readonly StreamHeadEntry[], collect: boolean,
): Promise<RootsPass> => {
  const before = merkleAccumulator();
  const after = merkleAccumulator();
  const all: StreamHeadEntry[] | null = collect ? [] : null;
  const keep = (h: StreamHeadEntry, leaf: Buffer) => {
    after.push(leaf);
    all?.push(h);
  };
  let next = 0;
  let last: string | null = null;
  for await (const page of pages) {
    for (const h of page) {
      if (last !== null && compareStreamIds(last, h.streamId) >= 0) throw new OutOfOrder(h.streamId);
      last = h.streamId;
      while (next < added.length && compareStreamIds(added[next]!.streamId, h.streamId) < 0) keep(added[next]!, merkleLeaf(added[next++]!));
      const leaf = merkleLeaf(h);
      before.push(leaf);
      const m = moved.get(h.streamId);
      keep(m ?? h, m ? merkleLeaf(m) : leaf);
      // a province's millions of heads must not hold the event loop for the whole pass
      if (before.leaves % 64 === 0) await turn();
    }
  }
  while (next < added.length) keep(added[next]!, merkleLeaf(added[next++]!));
  return { before: before.root(), after: after.root(), streams: after.leaves, all };
};

/**
 * `rootsFrom` over the stored heads. A store whose order differs from `compareStreamIds` (PostgreSQL's
 * "C" collation sorts by code point, JavaScript by UTF-16 unit: they differ only past U+FFFF) is read
 * whole and sorted here instead.
 */
const rootsPass = async (session: HeadsSession, moved: ReadonlyMap<string, StreamHeadEntry>, added: readonly StreamHeadEntry[], collect: boolean) => {
  try {
    return await rootsFrom(session.scan(), moved, added, collect);
  } catch (err) {
    if (!(err instanceof OutOfOrder)) throw err;
    const heads: StreamHeadEntry[] = [];
    for await (const page of session.scan()) heads.push(...page);
    heads.sort((a, b) => compareStreamIds(a.streamId, b.streamId));
    return rootsFrom((async function* () { yield heads; })(), moved, added, collect);
  }
};

export const createCheckpointer = (deps: {
  readonly store: EventStore;
  readonly log: IntegrityLog;
  readonly heads: CheckpointHeads;
  readonly signer: Signer;
  readonly check: SignatureCheck;
  readonly clock: Clock;
  /** Every this many checkpoints one records every head (default 1,000): verification reads from the last full ones on. */
  readonly fullEvery?: number;
}): Checkpointer => {
  const fullEvery = Math.max(1, deps.fullEvery ?? 1_000);
  const { store, log, signer } = deps;
  let queue: Promise<unknown> = Promise.resolve();
  // the checkpoint whose signature this process checked last (a check costs ~4 ms)
  let vouched: string | null = null;
  const emptyRoot = merkleRoot([]);

  const createNow = (options: { onlyIfMoved?: boolean; actor?: CheckpointActor }) => deps.heads.exclusive(async (session): Promise<Checkpoint | null> => {
    const [latestEvent] = await store.readStream(CHECKPOINT_STREAM, { direction: 'backwards', limit: 1 });
    const latest = (latestEvent?.data as Checkpoint | undefined) ?? null;
    // never sign on top of a checkpoint we cannot vouch for
    if (latest && vouched !== statementHash(latest)) {
      if (!isCheckpoint(latest) || !deps.check(statementMessage(latest), latest.signature, signer.publicKey))
        throw unavailable(`integrity checkpoint ${latest.sequence ?? '?'} is not signed by this server's key: run \`govcase verify\``);
      vouched = statementHash(latest);
    }
    const visible = (await log.headPosition()) ?? '';
    const behind = latest !== null && latest.position !== '' && (visible === '' || log.comparePositions(visible, latest.position) <= 0);
    // never cover less than the previous checkpoint did
    const position = behind ? latest.position : visible;
    const moved = position === '' || behind ? [] : await log.headsBetween(latest && latest.position !== '' ? latest.position : null, position);
    const full = (latest?.sequence ?? 0) % fullEvery === 0;

    // what moved against what is stored, then the roots before and after in one pass
    const delta = async () => {
      const stored = new Map((await session.get(moved.map((h) => h.streamId))).map((h) => [h.streamId, h] as const));
      const changed = moved.filter((h) => {
        const b = stored.get(h.streamId);
        return !b || b.revision !== h.revision || b.hash !== h.hash;
      }).sort((a, b) => compareStreamIds(a.streamId, b.streamId));
      return { changed, added: changed.filter((h) => !stored.has(h.streamId)) };
    };
    let { changed, added } = await delta();
    if (options.onlyIfMoved && latest && changed.length === 0) return null;
    const expected = latest?.merkleRoot ?? emptyRoot;
    let pass = await rootsPass(session, new Map(changed.map((h) => [h.streamId, h])), added, full);
    if (pass.before !== expected) {
      // the stored heads are not the latest checkpoint's: take them from the log, which must give its root
      await session.reset(latest && latest.position !== '' ? latest.position : null);
      ({ changed, added } = await delta());
      pass = await rootsPass(session, new Map(changed.map((h) => [h.streamId, h])), added, full);
      if (pass.before !== expected)
        throw unavailable(`the log no longer matches integrity checkpoint ${latest?.sequence ?? 0}: refusing to sign over it; run \`govcase verify\``);
    }
    const actor = options.actor ?? checkpointerActor;
    const now = deps.clock.now().toISOString();
    const checkpoint = signCheckpoint({
      previous: latest, changes: full ? pass.all ?? [] : changed, streams: pass.streams, merkleRoot: pass.after,
      position, createdAt: now, signer, full,
    });
    // stored first, committed after the append: a failed append leaves the heads as they were
    await session.put(changed);
    await store.appendToStream(CHECKPOINT_STREAM, [{
      type: CHECKPOINT_EVENT,
      data: checkpoint,
      metadata: {
        actorId: actor.id, actorRole: actor.role, sourceAddress: actor.sourceAddress, correlationId: actor.correlationId,
        clientApp: actor.clientApp, occurredAt: now, reason: options.onlyIfMoved ? 'periodic integrity checkpoint' : 'integrity checkpoint on demand',
      },
    }], { expectedVersion: latestEvent ? latestEvent.revision : 'no_stream' });
    vouched = statementHash(checkpoint);
    return checkpoint;
  });

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
