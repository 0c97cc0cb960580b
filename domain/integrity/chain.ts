import { eventHash } from '../integrity.ts';
import { CHECKPOINT_STREAM, type Anchor, type IntegrityProblem, type StreamHeadEntry } from './checkpoint.ts';

/**
 * The chain walk, pure: events arrive in stream order (stream id, then revision); each stream's SM3
 * chain is recomputed, and compared with what the trusted checkpoints recorded:
 * - a changed event whose hash was not recomputed: HASH_MISMATCH (or CHAIN_BROKEN at the next one);
 * - a missing revision, or two swapped: REVISION_GAP / CHAIN_BROKEN / HASH_MISMATCH at the first one out of place;
 * - a chain rewritten with recomputed hashes: REWRITTEN at the earliest revision that can have been
 *   changed (the one after the last revision whose hash still matches a checkpoint);
 * - events deleted from the end: MISSING_EVENTS; a whole stream: MISSING_STREAM;
 * - an event inside the covered position the checkpoint does not know: INSERTED / UNKNOWN_STREAM;
 *   a covered revision now stored after the covered position: MOVED.
 * Each stream reports its first problem only.
 */
export interface WalkedEvent {
  readonly streamId: string;
  readonly revision: number;
  readonly position: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly hash: string;
  readonly previousHash: string | null;
}

export interface ChainWalkOptions {
  readonly heads?: ReadonlyMap<string, StreamHeadEntry>;
  readonly anchors?: ReadonlyMap<string, readonly Anchor[]>;
  /** Whether a position is inside the trusted checkpoint (absent: no checkpoint to compare with). */
  readonly isCovered?: (position: string) => boolean;
  /** Only this stream is walked: the others' absence is not a problem. */
  readonly onlyStream?: string | undefined;
  /** Stop collecting after this many problems (default 100). */
  readonly maxProblems?: number;
}

export interface ChainWalkResult {
  readonly streams: number;
  readonly events: number;
  readonly problems: readonly IntegrityProblem[];
}

interface StreamState {
  readonly streamId: string;
  expected: number;
  prevHash: string | null;
  broken: boolean;
  anchorIndex: number;
  lastGood: number;
  readonly head: StreamHeadEntry | undefined;
  readonly anchors: readonly Anchor[];
  readonly system: boolean;
}

export const createChainWalk = (options: ChainWalkOptions = {}) => {
  const heads = options.heads ?? new Map<string, StreamHeadEntry>();
  const anchorsOf = options.anchors ?? new Map<string, readonly Anchor[]>();
  const isCovered = options.isCovered;
  const maxProblems = options.maxProblems ?? 100;
  const problems: IntegrityProblem[] = [];
  const seen = new Set<string>();
  let events = 0;
  let cur: StreamState | null = null;

  const report = (s: StreamState, kind: IntegrityProblem['kind'], revision: number | null, detail: string, sequence?: number) => {
    s.broken = true;
    if (problems.length < maxProblems) problems.push({ kind, streamId: s.streamId, revision, detail, ...(sequence ? { sequence } : {}) });
  };

  const endStream = (s: StreamState) => {
    if (s.broken || s.system || !s.head) return;
    const last = s.expected - 1;
    if (last < s.head.revision)
      report(s, 'MISSING_EVENTS', last + 1, `the checkpoint recorded revision ${s.head.revision}, the stream ends at ${last}: events were deleted`);
  };

  const push = (e: WalkedEvent) => {
    if (!cur || cur.streamId !== e.streamId) {
      if (cur) endStream(cur);
      if (seen.has(e.streamId)) throw new Error(`chain walk: events of ${e.streamId} are not contiguous (the walk must be in stream order)`);
      seen.add(e.streamId);
      cur = {
        streamId: e.streamId, expected: 0, prevHash: null, broken: false, anchorIndex: 0, lastGood: -1,
        head: heads.get(e.streamId), anchors: anchorsOf.get(e.streamId) ?? [], system: e.streamId === CHECKPOINT_STREAM,
      };
    }
    events++;
    const s = cur;
    if (s.broken) return;
    if (e.revision !== s.expected)
      return report(s, 'REVISION_GAP', s.expected, e.revision > s.expected ? `revision ${s.expected} is missing (next found: ${e.revision})` : `revision ${e.revision} appears twice`);
    if ((e.previousHash ?? null) !== s.prevHash)
      return report(s, 'CHAIN_BROKEN', e.revision, `revision ${e.revision} does not point at the hash of revision ${e.revision - 1}`);
    if (eventHash(s.prevHash, e) !== e.hash)
      return report(s, 'HASH_MISMATCH', e.revision, `revision ${e.revision}: its content does not give its stored hash (changed after it was written)`);
    if (!s.system) {
      while (s.anchorIndex < s.anchors.length && s.anchors[s.anchorIndex]!.revision < e.revision) s.anchorIndex++;
      const a = s.anchors[s.anchorIndex];
      if (a && a.revision === e.revision) {
        if (a.hash !== e.hash)
          return report(s, 'REWRITTEN', s.lastGood + 1,
            `the chain was rewritten with recomputed hashes: revision ${e.revision} differs from checkpoint ${a.sequence}; ` +
            `revisions ${s.lastGood + 1}..${e.revision} may have been changed (revision ${s.lastGood} is the last that matches a checkpoint)`, a.sequence);
        s.lastGood = e.revision;
        s.anchorIndex++;
      }
      if (isCovered) {
        const covered = isCovered(e.position);
        if (covered && (!s.head || e.revision > s.head.revision))
          return report(s, s.head ? 'INSERTED' : 'UNKNOWN_STREAM', e.revision,
            s.head ? `revision ${e.revision} lies inside the checkpoint, which recorded the stream only up to revision ${s.head.revision}: inserted afterwards`
              : 'the stream has events inside the checkpoint, which does not know it: inserted afterwards');
        if (!covered && s.head && e.revision <= s.head.revision)
          return report(s, 'MOVED', e.revision, `revision ${e.revision} is covered by the checkpoint but stored after its position: deleted and written again`);
      }
    }
    s.prevHash = e.hash;
    s.expected++;
  };

  const finish = (): ChainWalkResult => {
    if (cur) endStream(cur);
    cur = null;
    const missing = [...heads.keys()].filter((id) => !seen.has(id) && (options.onlyStream === undefined || id === options.onlyStream)).sort();
    for (const streamId of missing)
      if (problems.length < maxProblems)
        problems.push({ kind: 'MISSING_STREAM', streamId, revision: 0, detail: `the checkpoint recorded ${streamId} at revision ${heads.get(streamId)!.revision}; the stream is gone` });
    return { streams: seen.size, events, problems };
  };

  return { push, finish, get events() { return events; }, get streams() { return seen.size; }, get problems() { return problems as readonly IntegrityProblem[]; } };
};

export type ChainWalk = ReturnType<typeof createChainWalk>;
