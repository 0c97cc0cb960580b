import { canonicalJson, sm3Digest, sm3Hex } from '../integrity.ts';

/**
 * Signed integrity checkpoints, pure. A checkpoint covers the global log up to a position: the head
 * (revision, hash) of every stream there, bound together by a Merkle root (SM3) and signed (SM2) by a
 * key kept outside the database. Each checkpoint stores only the heads that moved since the one
 * before (`changes`), and its signed statement names the previous statement's hash and the hash of
 * its changes; so verifying the newest signature authenticates the whole series, and folding the
 * series gives every stream's head and every revision ever anchored. Every so often a checkpoint is
 * `full` (it records every head), so a verifier needs only the series from the last full one on.
 */
export const CHECKPOINT_FORMAT = 'govcase-checkpoint/1';
/** The system stream the checkpoints are appended to; projections ignore it (not `case-`/`item-`). */
export const CHECKPOINT_STREAM = 'system-integrity-checkpoints';

export interface StreamHeadEntry {
  readonly streamId: string;
  readonly revision: number;
  readonly hash: string;
}

/** The part that is signed: canonical JSON of exactly these fields. */
export interface CheckpointStatement {
  readonly format: typeof CHECKPOINT_FORMAT;
  /** 1, 2, 3…: the checkpoint stream's revision + 1 */
  readonly sequence: number;
  /** The global position covered (the adapter's opaque position; '' for an empty log). */
  readonly position: string;
  /** SM3 of the previous checkpoint's statement (null for the first). */
  readonly previous: string | null;
  /** Whether `changes` holds every stream's head (the first checkpoint, then every so often), not only those that moved. */
  readonly full: boolean;
  /** Streams covered (all of them, not only the changed ones). */
  readonly streams: number;
  readonly merkleRoot: string;
  /** SM3 of canonical JSON of `changes`. */
  readonly changesHash: string;
  readonly createdAt: string;
  /** The signer's public key (informational: verification uses the key the verifier trusts). */
  readonly publicKey: string;
}

export interface Checkpoint extends CheckpointStatement {
  /** Heads that moved since the previous checkpoint (all heads for the first), sorted by stream id. */
  readonly changes: readonly StreamHeadEntry[];
  /** SM2 signature (DER, hex) over the statement, SM3 with the signer's Z value. */
  readonly signature: string;
}

/** Signing and checking, given to the pure code as functions (SM2 lives in infrastructure/). */
export interface Signer {
  readonly publicKey: string;
  sign(message: string): string;
}
export type SignatureCheck = (message: string, signature: string, publicKey: string) => boolean;

/** Stream-id order (UTF-16 code units), the order of the tree's leaves. */
export const compareStreamIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byStreamId = (a: { streamId: string }, b: { streamId: string }) => compareStreamIds(a.streamId, b.streamId);

// ---- Merkle tree (SM3), leaves sorted by stream id (UTF-16 code unit order) -----------------------
// leaf = SM3(0x00 ‖ canonicalJSON([streamId, revision, hash])), node = SM3(0x01 ‖ left ‖ right) over the
// raw 32-byte digests; an odd node at the end of a level moves up unchanged; empty tree = SM3("").

const LEAF = Buffer.from([0]);
export const merkleLeaf = (h: StreamHeadEntry): Buffer => sm3Digest(LEAF, canonicalJson([h.streamId, h.revision, h.hash]));

/**
 * The tree, built leaf by leaf in O(log n) memory: a stack of complete subtrees, merged as a
 * binary counter carries; at the end the stack is folded from the right. The "odd node moves up"
 * rule gives exactly this shape (the left subtree holds the largest power of two below n), so a
 * checkpointer can stream millions of heads in stream-id order without holding them.
 */
export interface MerkleAccumulator {
  /** Adds the next leaf digest (`merkleLeaf`), in stream-id order. */
  push(leaf: Buffer): void;
  readonly leaves: number;
  /** The root over the leaves pushed so far (hex); the accumulator stays usable. */
  root(): string;
}

const NODE = Buffer.from([1]);
const node = (left: Buffer, right: Buffer): Buffer => sm3Digest(NODE, left, right);

export const merkleAccumulator = (): MerkleAccumulator => {
  const stack: { level: number; hash: Buffer }[] = [];
  let leaves = 0;
  return {
    push(leaf) {
      leaves++;
      let top = { level: 0, hash: leaf };
      while (stack.length > 0 && stack[stack.length - 1]!.level === top.level) {
        const left = stack.pop()!;
        top = { level: top.level + 1, hash: node(left.hash, top.hash) };
      }
      stack.push(top);
    },
    get leaves() {
      return leaves;
    },
    root() {
      if (stack.length === 0) return sm3Hex('');
      let acc = stack[stack.length - 1]!.hash;
      for (let i = stack.length - 2; i >= 0; i--) acc = node(stack[i]!.hash, acc);
      return acc.toString('hex');
    },
  };
};

export const merkleRoot = (heads: readonly StreamHeadEntry[]): string => {
  const acc = merkleAccumulator();
  for (const h of [...heads].sort(byStreamId)) acc.push(merkleLeaf(h));
  return acc.root();
};

// ---- statements ----------------------------------------------------------------------------------

export const statementOf = (c: CheckpointStatement): CheckpointStatement => ({
  format: c.format, sequence: c.sequence, position: c.position, previous: c.previous, full: c.full, streams: c.streams,
  merkleRoot: c.merkleRoot, changesHash: c.changesHash, createdAt: c.createdAt, publicKey: c.publicKey,
});

/** The exact text that is signed. */
export const statementMessage = (c: CheckpointStatement): string => canonicalJson(statementOf(c));
export const statementHash = (c: CheckpointStatement): string => sm3Hex(statementMessage(c));
export const changesHash = (changes: readonly StreamHeadEntry[]): string =>
  sm3Hex(canonicalJson(changes.map((h) => [h.streamId, h.revision, h.hash])));

/** Heads after `changes` are applied on top of `heads` (a new map). */
export const applyChanges = (heads: ReadonlyMap<string, StreamHeadEntry>, changes: readonly StreamHeadEntry[]): Map<string, StreamHeadEntry> => {
  const next = new Map(heads);
  for (const h of changes) next.set(h.streamId, h);
  return next;
};

/** The heads that differ between two head sets (what `changes` records). */
export const headChanges = (before: ReadonlyMap<string, StreamHeadEntry>, after: readonly StreamHeadEntry[]): StreamHeadEntry[] =>
  after.filter((h) => {
    const b = before.get(h.streamId);
    return !b || b.revision !== h.revision || b.hash !== h.hash;
  }).sort(byStreamId);

/** Signs the next checkpoint from what the caller computed: the heads that moved (all of them in a full one), sorted by stream id. */
export const signCheckpoint = (input: {
  readonly previous: Checkpoint | null;
  readonly changes: readonly StreamHeadEntry[];
  /** every stream's head, counted */
  readonly streams: number;
  readonly merkleRoot: string;
  readonly position: string;
  readonly createdAt: string;
  readonly signer: Signer;
  readonly full: boolean;
}): Checkpoint => {
  const statement: CheckpointStatement = {
    format: CHECKPOINT_FORMAT,
    sequence: (input.previous?.sequence ?? 0) + 1,
    position: input.position,
    previous: input.previous ? statementHash(input.previous) : null,
    full: input.full,
    streams: input.streams,
    merkleRoot: input.merkleRoot,
    changesHash: changesHash(input.changes),
    createdAt: input.createdAt,
    publicKey: input.signer.publicKey,
  };
  return { ...statement, changes: [...input.changes], signature: input.signer.sign(statementMessage(statement)) };
};

/** Builds and signs the next checkpoint over `heads` (every stream's head at `position`), all in memory. */
export const buildCheckpoint = (input: {
  readonly previous: Checkpoint | null;
  readonly previousHeads: ReadonlyMap<string, StreamHeadEntry>;
  readonly heads: ReadonlyMap<string, StreamHeadEntry>;
  readonly position: string;
  readonly createdAt: string;
  readonly signer: Signer;
  /** Record every head, not only those that moved (always for the first checkpoint). */
  readonly full?: boolean;
}): Checkpoint => {
  const full = input.previous === null || input.full === true;
  const all = [...input.heads.values()];
  return signCheckpoint({
    previous: input.previous, full, streams: all.length, merkleRoot: merkleRoot(all),
    changes: full ? all.sort(byStreamId) : headChanges(input.previousHeads, all),
    position: input.position, createdAt: input.createdAt, signer: input.signer,
  });
};

// ---- folding a series of checkpoints -------------------------------------------------------------

export type CheckpointProblemKind = 'BAD_SIGNATURE' | 'BROKEN_CHECKPOINT_CHAIN' | 'CHANGES_TAMPERED' | 'MERKLE_MISMATCH' | 'MALFORMED_CHECKPOINT';

export interface IntegrityProblem {
  readonly kind: CheckpointProblemKind | ChainProblemKind;
  readonly streamId: string | null;
  readonly revision: number | null;
  /** The checkpoint concerned, when there is one. */
  readonly sequence?: number | undefined;
  readonly detail: string;
}

export type ChainProblemKind =
  | 'HASH_MISMATCH' | 'CHAIN_BROKEN' | 'REVISION_GAP' | 'REWRITTEN' | 'MISSING_EVENTS' | 'MISSING_STREAM'
  | 'UNKNOWN_STREAM' | 'INSERTED' | 'MOVED';

export interface Anchor {
  readonly revision: number;
  readonly hash: string;
  readonly sequence: number;
}

export interface FoldedCheckpoints {
  /** The newest checkpoint whose signature checks with the trusted key, and that the chain reaches. */
  readonly trusted: Checkpoint | null;
  /** Every stream's head at the trusted checkpoint. */
  readonly heads: ReadonlyMap<string, StreamHeadEntry>;
  /** Per stream, every (revision, hash) a trusted checkpoint recorded, oldest first. */
  readonly anchors: ReadonlyMap<string, readonly Anchor[]>;
  readonly problems: readonly IntegrityProblem[];
  readonly count: number;
}

const problem = (kind: IntegrityProblem['kind'], detail: string, extra: Partial<IntegrityProblem> = {}): IntegrityProblem =>
  ({ kind, streamId: null, revision: null, detail, ...extra });

const isHead = (h: unknown): h is StreamHeadEntry =>
  !!h && typeof h === 'object' && typeof (h as StreamHeadEntry).streamId === 'string' &&
  Number.isInteger((h as StreamHeadEntry).revision) && typeof (h as StreamHeadEntry).hash === 'string';

/** Shape check for checkpoints read from the store or a file (they are untrusted input). */
export const isCheckpoint = (c: unknown): c is Checkpoint => {
  const x = c as Checkpoint;
  return !!x && typeof x === 'object' && x.format === CHECKPOINT_FORMAT && Number.isInteger(x.sequence) && typeof x.position === 'string' &&
    (x.previous === null || typeof x.previous === 'string') && typeof x.full === 'boolean' && Number.isInteger(x.streams) && typeof x.merkleRoot === 'string' &&
    typeof x.changesHash === 'string' && typeof x.createdAt === 'string' && typeof x.publicKey === 'string' &&
    typeof x.signature === 'string' && Array.isArray(x.changes) && x.changes.every(isHead);
};

/**
 * Checks a series of checkpoints (oldest first) against the trusted public key: the newest one whose
 * signature checks is the trust anchor; the statement chain (`previous`) and each `changes` hash then
 * authenticate every older one without checking their signatures one by one. Checkpoints after the
 * trusted one (a forged or re-signed tail) are reported. The folded heads must give the trusted root.
 */
export const foldCheckpoints = (series: readonly unknown[], publicKey: string, check: SignatureCheck): FoldedCheckpoints => {
  const problems: IntegrityProblem[] = [];
  const list: Checkpoint[] = [];
  for (const [i, c] of series.entries()) {
    if (!isCheckpoint(c)) {
      problems.push(problem('MALFORMED_CHECKPOINT', `checkpoint #${i + 1} is not a ${CHECKPOINT_FORMAT} checkpoint`, { sequence: i + 1 }));
      break;
    }
    list.push(c);
  }
  // the newest checkpoint whose signature checks
  let t = list.length - 1;
  for (; t >= 0; t--) {
    const c = list[t]!;
    if (check(statementMessage(c), c.signature, publicKey)) break;
    problems.push(problem('BAD_SIGNATURE', `checkpoint ${c.sequence}: the signature does not check with the trusted public key`, { sequence: c.sequence }));
  }
  problems.reverse();
  const trusted = t >= 0 ? list[t]! : null;
  let heads = new Map<string, StreamHeadEntry>();
  const anchors = new Map<string, Anchor[]>();
  let chainOk = true;
  if (t >= 0 && !list[0]!.full) {
    problems.push(problem('MALFORMED_CHECKPOINT', `the series starts at checkpoint ${list[0]!.sequence}, which is not a full one`, { sequence: list[0]!.sequence }));
    return { trusted: null, heads: new Map(), anchors: new Map(), problems, count: list.length };
  }
  // the series may start at any full checkpoint (a verifier reads from the last full ones on)
  const base = list[0]?.sequence ?? 1;
  for (let i = 0; i <= t; i++) {
    const c = list[i]!;
    const prev = i > 0 ? list[i - 1]! : null;
    const linked = prev ? c.previous === statementHash(prev) : base === 1 ? c.previous === null : typeof c.previous === 'string';
    if (c.sequence !== base + i || !linked) {
      problems.push(problem('BROKEN_CHECKPOINT_CHAIN', `checkpoint ${c.sequence} does not follow checkpoint ${prev?.sequence ?? 'none'} (a checkpoint was changed, removed or inserted)`, { sequence: c.sequence }));
      chainOk = false;
      break;
    }
    if (changesHash(c.changes) !== c.changesHash) {
      problems.push(problem('CHANGES_TAMPERED', `checkpoint ${c.sequence}: its recorded heads do not match its signed hash`, { sequence: c.sequence }));
      chainOk = false;
      break;
    }
    heads = applyChanges(c.full ? new Map() : heads, c.changes);
    for (const h of c.changes) {
      const list = anchors.get(h.streamId) ?? [];
      list.push({ revision: h.revision, hash: h.hash, sequence: c.sequence });
      anchors.set(h.streamId, list);
    }
  }
  if (trusted && chainOk) {
    if (heads.size !== trusted.streams || merkleRoot([...heads.values()]) !== trusted.merkleRoot)
      problems.push(problem('MERKLE_MISMATCH', `checkpoint ${trusted.sequence}: the heads recorded by the series do not give its signed Merkle root`, { sequence: trusted.sequence }));
  }
  if (!chainOk) return { trusted: null, heads: new Map(), anchors: new Map(), problems, count: list.length };
  return { trusted, heads, anchors, problems, count: list.length };
};
