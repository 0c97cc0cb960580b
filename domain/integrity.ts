import { createHash } from 'node:crypto';

/**
 * Tamper evidence, pure: each event's hash is SM3 over the canonical JSON of
 * [previousHash, streamId, revision, type, data, metadata] — an unambiguous encoding of
 * previousHash ‖ streamId ‖ revision ‖ type ‖ canonicalJSON(data) ‖ canonicalJSON(metadata).
 * Chained per stream, so writers of different streams never serialise on one another.
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('non-finite number in event data');
    if (value === undefined) return 'null';
    return JSON.stringify(value);
  }
  // string building without intermediate arrays: this runs for every event appended (the hash chain)
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const v: unknown = value[i];
      out += v === undefined ? 'null' : canonicalJson(v);
    }
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
};

export const sm3Hex = (input: string | Buffer): string => createHash('sm3').update(input).digest('hex');
/** SM3 over the parts in order, as raw bytes (no concatenation, no hex round trip: the Merkle tree's hot path). */
export const sm3Digest = (...parts: readonly (string | Buffer)[]): Buffer => {
  const h = createHash('sm3');
  for (const p of parts) h.update(p);
  return h.digest();
};

export interface HashedFields {
  readonly streamId: string;
  readonly revision: number;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
}

export const eventHash = (previousHash: string | null, e: HashedFields): string =>
  sm3Hex(canonicalJson([previousHash ?? '', e.streamId, e.revision, e.type, e.data, e.metadata]));

/** A stable UUID (version-8 layout) derived from a name: same name, same id. */
export const uuidFromName = (name: string): string => {
  const h = sm3Hex(name).slice(0, 32).split('');
  h[12] = '8';
  h[16] = ((parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
};
