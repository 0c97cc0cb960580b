import type pg from 'pg';
import { aggregateRefusal, refusalBucket, type AccessRecord, type AggregatedRefusal, type AuditTrail, type RefusalRecord } from '../../application/audit.ts';

/**
 * The PostgreSQL audit trail: reads and refusals are buffered in memory and written every
 * `flushMs` (or when `maxBuffered` accumulate) in one statement per table, never on the request's path.
 * `close()` writes what remains (normal shutdown loses nothing; a crash loses at most one interval).
 * Refusals are aggregated per window in memory and again in the table (an upsert adds the counts),
 * so several nodes flooded at once still write one row per window and kind.
 */
export interface AuditLogOptions {
  readonly pool: pg.Pool;
  readonly flushMs?: number;
  readonly windowMs?: number;
  readonly maxBuffered?: number;
  readonly log?: (msg: string) => void;
}

export interface AuditQueries {
  listAccess(filter: { actorId?: string | null; target?: string | null; since?: string | null; first: number }): Promise<AccessRecord[]>;
  listSecurityEvents(filter: { code?: string | null; actor?: string | null; since?: string | null; first: number }): Promise<AggregatedRefusal[]>;
}

export type PostgresAuditTrail = AuditTrail & AuditQueries;

export const createPostgresAuditTrail = (options: AuditLogOptions): PostgresAuditTrail => {
  const { pool } = options;
  const flushMs = options.flushMs ?? 1_000;
  const windowMs = options.windowMs ?? 60_000;
  const maxBuffered = options.maxBuffered ?? 1_000;
  const log = options.log ?? (() => {});
  let accesses: AccessRecord[] = [];
  let refusals = new Map<string, AggregatedRefusal>();
  let flushing: Promise<void> = Promise.resolve();
  let closed = false;
  let dropped = 0;

  const write = async (batch: AccessRecord[], agg: AggregatedRefusal[]) => {
    if (batch.length > 0) {
      await pool.query(
        `insert into access_audit (at, actor_id, actor_role, operation, target, source_address, request_id, client_app)
         select * from unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])`,
        [batch.map((a) => a.at), batch.map((a) => a.actorId), batch.map((a) => a.actorRole), batch.map((a) => a.operation),
          batch.map((a) => a.target), batch.map((a) => a.sourceAddress), batch.map((a) => a.requestId), batch.map((a) => a.clientApp)],
      );
    }
    if (agg.length > 0) {
      await pool.query(
        `insert into security_events (window_start, first_at, last_at, count, code, actor, actor_role, operation, reason, source_address, request_id)
         select * from unnest($1::timestamptz[], $2::timestamptz[], $3::timestamptz[], $4::bigint[], $5::text[], $6::text[], $7::text[],
                              $8::text[], $9::text[], $10::text[], $11::text[])
         on conflict (window_start, code, actor, operation, reason, source_address) do update
           set count = security_events.count + excluded.count,
               last_at = greatest(security_events.last_at, excluded.last_at)`,
        [agg.map((r) => r.windowStart), agg.map((r) => r.firstAt), agg.map((r) => r.lastAt), agg.map((r) => r.count), agg.map((r) => r.code),
          agg.map((r) => r.actor), agg.map((r) => r.actorRole), agg.map((r) => r.operation), agg.map((r) => r.reason),
          agg.map((r) => r.sourceAddress), agg.map((r) => r.requestId)],
      );
    }
  };

  const flush = (): Promise<void> => {
    flushing = flushing.then(async () => {
      const batch = accesses;
      const agg = [...refusals.values()];
      accesses = [];
      refusals = new Map();
      if (batch.length === 0 && agg.length === 0) return;
      try {
        await write(batch, agg);
      } catch (err) {
        // keep them for the next attempt, bounded: the audit never takes the API down with it
        accesses = [...batch, ...accesses].slice(-maxBuffered * 10);
        for (const r of agg) {
          const key = refusalBucket(r, windowMs).key;
          const cur = refusals.get(key);
          refusals.set(key, cur ? { ...cur, count: cur.count + r.count, firstAt: r.firstAt < cur.firstAt ? r.firstAt : cur.firstAt, lastAt: r.lastAt > cur.lastAt ? r.lastAt : cur.lastAt } : r);
        }
        log(`audit trail: could not write ${batch.length} read(s) and ${agg.length} refusal(s) yet: ${(err as Error).message}`);
      }
    });
    return flushing;
  };

  const timer = setInterval(() => void flush(), flushMs);
  timer.unref();

  return {
    access(record) {
      if (closed) return;
      if (accesses.length >= maxBuffered * 10) {
        dropped++;
        if (dropped % 1_000 === 1) log(`audit trail: buffer full, ${dropped} read(s) not recorded`);
        return;
      }
      accesses.push(record);
      if (accesses.length >= maxBuffered) void flush();
    },
    refusal(record: RefusalRecord) {
      if (closed) return;
      aggregateRefusal(refusals, record, windowMs);
      if (refusals.size >= maxBuffered) void flush();
    },
    flush,
    async close() {
      if (closed) return;
      clearInterval(timer);
      await flush();
      closed = true;
    },

    async listAccess(f) {
      const res = await pool.query<{ at: Date; actor_id: string; actor_role: string; operation: string; target: string | null; source_address: string | null; request_id: string | null; client_app: string | null }>(
        `select at, actor_id, actor_role, operation, target, source_address, request_id, client_app from access_audit
          where ($1::text is null or actor_id = $1) and ($2::text is null or target = $2) and ($3::timestamptz is null or at >= $3)
          order by at desc, id desc limit $4`,
        [f.actorId ?? null, f.target ?? null, f.since ?? null, f.first]);
      return res.rows.map((r) => ({
        at: r.at.toISOString(), actorId: r.actor_id, actorRole: r.actor_role, operation: r.operation, target: r.target,
        sourceAddress: r.source_address, requestId: r.request_id, clientApp: r.client_app,
      }));
    },

    async listSecurityEvents(f) {
      const res = await pool.query<{ window_start: Date; first_at: Date; last_at: Date; count: string; code: string; actor: string; actor_role: string | null; operation: string; reason: string; source_address: string; request_id: string | null }>(
        `select window_start, first_at, last_at, count, code, actor, actor_role, operation, reason, source_address, request_id from security_events
          where ($1::text is null or code = $1) and ($2::text is null or actor = $2) and ($3::timestamptz is null or last_at >= $3)
          order by last_at desc, id desc limit $4`,
        [f.code ?? null, f.actor ?? null, f.since ?? null, f.first]);
      return res.rows.map((r) => ({
        windowStart: r.window_start.toISOString(), firstAt: r.first_at.toISOString(), lastAt: r.last_at.toISOString(), at: r.last_at.toISOString(),
        count: Number(r.count), code: r.code as AggregatedRefusal['code'], actor: r.actor, actorRole: r.actor_role, operation: r.operation,
        reason: r.reason, sourceAddress: r.source_address, requestId: r.request_id,
      }));
    },
  };
};
