import { describe, expect, it } from 'vitest';
import { eventHash } from '../../domain/integrity.ts';
import {
  buildCheckpoint, changesHash, CHECKPOINT_STREAM, foldCheckpoints, merkleAccumulator, merkleLeaf, merkleRoot, statementHash, statementMessage,
  type Checkpoint, type StreamHeadEntry,
} from '../../domain/integrity/checkpoint.ts';
import { createChainWalk, type WalkedEvent } from '../../domain/integrity/chain.ts';
import { generateSigningKey, sm2Check, sm2Signer } from '../../infrastructure/integrity/sm2.ts';
import { sm3Hex } from '../../domain/integrity.ts';

const signer = sm2Signer(generateSigningKey());
const other = sm2Signer(generateSigningKey());

const head = (streamId: string, revision: number, hash = sm3Hex(`${streamId}/${revision}`)): StreamHeadEntry => ({ streamId, revision, hash });
const asMap = (hs: StreamHeadEntry[]) => new Map(hs.map((h) => [h.streamId, h] as const));

/** A stream of n hashed events, positions "<tx>:<pos>" from `firstPos`. */
const stream = (streamId: string, n: number, firstPos = 1): WalkedEvent[] => {
  const out: WalkedEvent[] = [];
  let prev: string | null = null;
  for (let r = 0; r < n; r++) {
    const e = { streamId, revision: r, position: `1:${firstPos + r}`, type: 'T', data: { r }, metadata: { actorId: 'a' } };
    const hash = eventHash(prev, e);
    out.push({ ...e, hash, previousHash: prev });
    prev = hash;
  }
  return out;
};
const headOf = (events: WalkedEvent[]): StreamHeadEntry => {
  const last = events[events.length - 1]!;
  return { streamId: last.streamId, revision: last.revision, hash: last.hash };
};
const covered = (upTo: number) => (p: string) => Number(p.split(':')[1]) <= upTo;

describe('Merkle root (SM3)', () => {
  it('does not depend on the order heads are given in, and changes with any head', () => {
    const hs = [head('case-b', 3), head('case-a', 1), head('item-x', 0), head('case-c', 7), head('case-d', 2)];
    const root = merkleRoot(hs);
    expect(merkleRoot([...hs].reverse())).toBe(root);
    expect(merkleRoot([...hs.slice(0, 4), head('case-d', 3)])).not.toBe(root);
    expect(merkleRoot([...hs.slice(0, 4), head('case-d', 2, sm3Hex('x'))])).not.toBe(root);
    expect(merkleRoot(hs.slice(0, 4))).not.toBe(root);
    expect(root).toMatch(/^[0-9a-f]{64}$/);
  });
  it('one leaf is its own root; the empty tree is SM3("")', () => {
    expect(merkleRoot([head('s', 0)])).toBe(merkleLeaf(head('s', 0)).toString('hex'));
    expect(merkleRoot([])).toBe(sm3Hex(''));
  });
});

describe('signed checkpoints', () => {
  const build = (previous: Checkpoint | null, before: Map<string, StreamHeadEntry>, after: StreamHeadEntry[], position: string, s = signer) =>
    buildCheckpoint({ previous, previousHeads: before, heads: asMap(after), position, createdAt: '2026-11-25T12:00:00.000Z', signer: s });

  const first = build(null, new Map(), [head('a', 0), head('b', 2)], '1:3');
  const second = build(first, asMap([head('a', 0), head('b', 2)]), [head('a', 0), head('b', 4), head('c', 0)], '1:7');

  it('records only the heads that moved, chained to the previous statement, signed with SM2', () => {
    expect(first.sequence).toBe(1);
    expect(second.sequence).toBe(2);
    expect(second.changes.map((h) => h.streamId)).toEqual(['b', 'c']);
    expect(second.previous).toBe(statementHash(first));
    expect(second.streams).toBe(3);
    expect(second.changesHash).toBe(changesHash(second.changes));
    expect(sm2Check(statementMessage(second), second.signature, signer.publicKey)).toBe(true);
    expect(sm2Check(statementMessage({ ...second, streams: 4 }), second.signature, signer.publicKey)).toBe(false);
    expect(sm2Check(statementMessage(second), second.signature, other.publicKey)).toBe(false);
  });

  it('folds a good series into every head and every anchored revision', () => {
    const f = foldCheckpoints([first, second], signer.publicKey, sm2Check);
    expect(f.problems).toEqual([]);
    expect(f.trusted?.sequence).toBe(2);
    expect([...f.heads.values()].map((h) => [h.streamId, h.revision])).toEqual([['a', 0], ['b', 4], ['c', 0]]);
    expect(f.anchors.get('b')?.map((a) => a.revision)).toEqual([2, 4]);
  });

  it('a latest checkpoint signed by another key: BAD_SIGNATURE, and the one before is trusted', () => {
    const forged = build(first, asMap([head('a', 0), head('b', 2)]), [head('a', 0), head('b', 9)], '1:9', other);
    const f = foldCheckpoints([first, forged], signer.publicKey, sm2Check);
    expect(f.problems.map((p) => [p.kind, p.sequence])).toEqual([['BAD_SIGNATURE', 2]]);
    expect(f.trusted?.sequence).toBe(1);
  });

  it('a full checkpoint records every head and restarts the fold; a series may start at any full one, not at a delta', () => {
    const third = buildCheckpoint({ previous: second, previousHeads: asMap([head('a', 0), head('b', 4), head('c', 0)]), heads: asMap([head('a', 1), head('b', 4), head('c', 0)]),
      position: '1:8', createdAt: '2026-11-25T12:00:00.000Z', signer, full: true });
    expect(third.full).toBe(true);
    expect(third.changes.map((h) => h.streamId)).toEqual(['a', 'b', 'c']);
    const fourth = build(third, asMap(third.changes as StreamHeadEntry[]), [head('a', 1), head('b', 4), head('c', 3)], '1:11');
    expect(fourth.full).toBe(false);
    const all = foldCheckpoints([first, second, third, fourth], signer.publicKey, sm2Check);
    expect(all.problems).toEqual([]);
    expect(all.anchors.get('b')?.map((a) => a.sequence)).toEqual([1, 2, 3]);
    const recent = foldCheckpoints([third, fourth], signer.publicKey, sm2Check);
    expect(recent.problems).toEqual([]);
    expect(recent.trusted?.sequence).toBe(4);
    expect([...recent.heads.values()].map((h) => [h.streamId, h.revision])).toEqual([['a', 1], ['b', 4], ['c', 3]]);
    expect(foldCheckpoints([second, third, fourth], signer.publicKey, sm2Check).problems.map((p) => p.kind)).toEqual(['MALFORMED_CHECKPOINT']);
    expect(foldCheckpoints([first, third, fourth], signer.publicKey, sm2Check).problems.map((p) => p.kind)).toEqual(['BROKEN_CHECKPOINT_CHAIN']);
  });

  it('a changed older checkpoint breaks the statement chain; changed heads break the changes hash', () => {
    const altered = { ...first, merkleRoot: sm3Hex('x') };
    expect(foldCheckpoints([altered, second], signer.publicKey, sm2Check).problems.map((p) => p.kind)).toEqual(['BROKEN_CHECKPOINT_CHAIN']);
    const heads = { ...first, changes: [head('a', 0), head('b', 1)] };
    expect(foldCheckpoints([heads, second], signer.publicKey, sm2Check).problems.map((p) => p.kind)).toEqual(['CHANGES_TAMPERED']);
    expect(foldCheckpoints([{ nonsense: true }], signer.publicKey, sm2Check).problems.map((p) => p.kind)).toEqual(['MALFORMED_CHECKPOINT']);
  });
});

describe('the chain walk against checkpoints', () => {
  const a = stream('case-a', 5, 1); // positions 1..5
  const b = stream('case-b', 3, 10); // positions 10..12
  const walk = (events: WalkedEvent[], heads: StreamHeadEntry[], upTo: number, anchors?: Map<string, { revision: number; hash: string; sequence: number }[]>) => {
    const w = createChainWalk({ heads: asMap(heads), anchors: anchors ?? new Map(heads.map((h) => [h.streamId, [{ revision: h.revision, hash: h.hash, sequence: 1 }]])), isCovered: covered(upTo) });
    for (const e of events) w.push(e);
    return w.finish();
  };
  const problems = (r: ReturnType<typeof walk>) => r.problems.map((p) => [p.kind, p.streamId, p.revision]);

  it('an intact log passes, events after the checkpoint included', () => {
    const r = walk([...a, ...b], [headOf(a.slice(0, 3))], 3);
    expect(r.problems).toEqual([]);
    expect(r.events).toBe(8);
    expect(r.streams).toBe(2);
  });
  it('a changed event: HASH_MISMATCH at its revision', () => {
    const changed = a.map((e) => (e.revision === 2 ? { ...e, data: { r: 99 } } : e));
    expect(problems(walk([...changed, ...b], [headOf(a), headOf(b)], 12))).toEqual([['HASH_MISMATCH', 'case-a', 2]]);
  });
  it('a rewritten chain (hashes recomputed): REWRITTEN after the last anchored revision that still matches', () => {
    let prev: string | null = a[1]!.hash;
    const rewritten = a.map((e) => {
      if (e.revision < 2) return e;
      const x = { ...e, data: e.revision === 2 ? { r: 'forged' } : e.data, previousHash: prev };
      const hash = eventHash(prev, x);
      prev = hash;
      return { ...x, hash };
    });
    const anchors = new Map([['case-a', [{ revision: 1, hash: a[1]!.hash, sequence: 1 }, { revision: 4, hash: a[4]!.hash, sequence: 2 }]]]);
    expect(problems(walk([...rewritten, ...b], [headOf(a), headOf(b)], 12, anchors))).toEqual([['REWRITTEN', 'case-a', 2]]);
  });
  it('deletions: the last event, a middle one, a whole stream', () => {
    expect(problems(walk([...a.slice(0, 4), ...b], [headOf(a), headOf(b)], 12))).toEqual([['MISSING_EVENTS', 'case-a', 4]]);
    expect(problems(walk([...a.filter((e) => e.revision !== 2), ...b], [headOf(a), headOf(b)], 12))).toEqual([['REVISION_GAP', 'case-a', 2]]);
    expect(problems(walk([...a], [headOf(a), headOf(b)], 12))).toEqual([['MISSING_STREAM', 'case-b', 0]]);
  });
  it('two events swapped: the first one out of place', () => {
    const swapped = [a[0]!, { ...a[2]!, revision: 1 }, { ...a[1]!, revision: 2 }, a[3]!, a[4]!];
    expect(problems(walk([...swapped, ...b], [headOf(a), headOf(b)], 12))).toEqual([['CHAIN_BROKEN', 'case-a', 1]]);
  });
  it('an event or a stream inserted inside the covered range; a covered revision stored later', () => {
    expect(problems(walk([...a, ...b], [headOf(a.slice(0, 3)), headOf(b)], 12))).toEqual([['INSERTED', 'case-a', 3]]);
    expect(problems(walk([...a, ...b], [headOf(a)], 12))).toEqual([['UNKNOWN_STREAM', 'case-b', 0]]);
    const moved = a.map((e) => (e.revision === 4 ? { ...e, position: '1:99' } : e));
    expect(problems(walk([...moved, ...b], [headOf(a), headOf(b)], 12))).toEqual([['MOVED', 'case-a', 4]]);
  });
  it('the checkpoint stream is chain-checked but not compared with the heads', () => {
    const cps = stream(CHECKPOINT_STREAM, 2, 20);
    expect(walk([...a, ...b, ...cps], [headOf(a), headOf(b)], 30).problems).toEqual([]);
  });
});

/** The tree as docs/audit.md defines it, level by level: pairs hashed, an odd node at the end moves up unchanged. */
const levelByLevelRoot = (heads: readonly StreamHeadEntry[]): string => {
  if (heads.length === 0) return sm3Hex('');
  let level = [...heads].sort((a, b) => (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0)).map(merkleLeaf);
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const right = level[i + 1];
      next.push(right ? Buffer.from(sm3Hex(Buffer.concat([Buffer.from([1]), level[i]!, right])), 'hex') : level[i]!);
    }
    level = next;
  }
  return level[0]!.toString('hex');
};

describe('the Merkle root built leaf by leaf (O(log n) memory)', () => {
  it('is the level-by-level tree of the definition, for trees of every size up to 300 and a few larger', () => {
    const heads = Array.from({ length: 1_100 }, (_, i) => ({ streamId: `case-${String((i * 7919) % 10_007).padStart(5, '0')}`, revision: i % 5, hash: sm3Hex(String(i)) }));
    for (const n of [...Array.from({ length: 301 }, (_, i) => i), 511, 512, 513, 1_023, 1_024, 1_100]) {
      const some = heads.slice(0, n);
      expect(merkleRoot(some), `n = ${n}`).toBe(levelByLevelRoot(some));
    }
  });
  it('gives the root so far at any point and goes on', () => {
    const heads = Array.from({ length: 40 }, (_, i) => head(`s-${String(i).padStart(2, '0')}`, i));
    const acc = merkleAccumulator();
    for (const [i, h] of heads.entries()) {
      acc.push(merkleLeaf(h));
      expect(acc.root()).toBe(levelByLevelRoot(heads.slice(0, i + 1)));
    }
    expect(acc.leaves).toBe(40);
  });
});
