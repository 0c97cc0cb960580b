import type { Principal } from '../domain/permissions.ts';

/**
 * The audit of reads and refusals (等保: security events are audited whether they succeed or fail).
 * - Access audit: auditor and supervisor reads of personal data (streams, the log, cases, time travel).
 * - Refusal audit: every UNAUTHENTICATED, FORBIDDEN and RATE_LIMITED request, aggregated per window
 *   (same who, what, why and from where → one entry with a count), so a flood cannot fill the store.
 * Recording never fails nor slows the request: the trail buffers and writes in batches.
 */
export interface AccessRecord {
  readonly at: string;
  readonly actorId: string;
  readonly actorRole: string;
  readonly operation: string;
  readonly target: string | null;
  readonly sourceAddress: string | null;
  readonly requestId: string | null;
  readonly clientApp: string | null;
}

export type RefusalCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'RATE_LIMITED';

export interface RefusalRecord {
  readonly at: string;
  readonly code: RefusalCode;
  /** The principal's id, a token fingerprint (`token:…`) when the token was not accepted, or `anonymous`. */
  readonly actor: string;
  readonly actorRole: string | null;
  readonly operation: string;
  readonly reason: string;
  readonly sourceAddress: string;
  readonly requestId: string | null;
}

export interface AuditTrail {
  access(record: AccessRecord): void;
  refusal(record: RefusalRecord): void;
  /** Writes what is buffered (called on a timer, and on shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Roles whose reads of personal data are recorded, most specific first. */
const AUDITED_ROLES = ['auditor', 'supervisor'] as const;

/** The role a read is recorded under, or null when this principal's reads are not audited. */
export const auditedRole = (p: Principal): string | null => AUDITED_ROLES.find((r) => p.roles.includes(r)) ?? null;

/** An aggregated refusal: the window it falls in and what makes two refusals "the same". */
export interface RefusalBucket {
  readonly windowStart: string;
  readonly key: string;
}

export const refusalBucket = (r: RefusalRecord, windowMs: number): RefusalBucket => {
  const t = Date.parse(r.at);
  const windowStart = new Date(Math.floor(t / windowMs) * windowMs).toISOString();
  return { windowStart, key: JSON.stringify([windowStart, r.code, r.actor, r.operation, r.reason, r.sourceAddress]) };
};

export interface AggregatedRefusal extends RefusalRecord {
  readonly windowStart: string;
  readonly firstAt: string;
  readonly lastAt: string;
  readonly count: number;
}

/**
 * Folds refusals into per-window aggregates (pure; the trail keeps one map between flushes). Past
 * `maxKeys` distinct aggregates, further distinct ones fold into one per (window, code, operation)
 * with actor `*` and reason `(many)`: a flood of varied requests still costs a bounded number of rows.
 */
export const aggregateRefusal = (into: Map<string, AggregatedRefusal>, r: RefusalRecord, windowMs: number, maxKeys = 10_000): void => {
  let rec = r.reason.length > 200 ? { ...r, reason: r.reason.slice(0, 200) } : r;
  let { key, windowStart } = refusalBucket(rec, windowMs);
  if (!into.has(key) && into.size >= maxKeys) {
    rec = { ...rec, actor: '*', actorRole: null, reason: '(many)', sourceAddress: '*' };
    ({ key, windowStart } = refusalBucket(rec, windowMs));
  }
  const prev = into.get(key);
  if (prev) into.set(key, { ...prev, count: prev.count + 1, lastAt: rec.at > prev.lastAt ? rec.at : prev.lastAt });
  else into.set(key, { ...rec, windowStart, firstAt: rec.at, lastAt: rec.at, count: 1 });
};
