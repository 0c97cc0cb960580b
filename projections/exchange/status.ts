import type pg from 'pg';
import { targets, type Target } from '../../domain/exchange/targets.ts';
import { OUTBOX_TABLE } from './outboxProjection.ts';

/** The outbox as supervisors and /metrics see it, per target. */
export interface ExchangeTargetStatus {
  readonly target: Target;
  readonly pending: number;
  /** pending rows that failed at least once */
  readonly retrying: number;
  readonly delivered: number;
  readonly dead: number;
  /** seconds since the oldest pending row's event was recorded; 0 when nothing is pending */
  readonly oldestPendingAgeSeconds: number;
  readonly lastError: string | null;
}

const outboxExists = async (db: pg.Pool | pg.ClientBase) =>
  Boolean((await db.query<{ t: string | null }>('select to_regclass($1)::text as t', [OUTBOX_TABLE])).rows[0]?.t);

export const exchangeStatus = async (db: pg.Pool | pg.ClientBase): Promise<ExchangeTargetStatus[]> => {
  const empty = (target: Target): ExchangeTargetStatus => ({ target, pending: 0, retrying: 0, delivered: 0, dead: 0, oldestPendingAgeSeconds: 0, lastError: null });
  if (!(await outboxExists(db))) return targets.map(empty);
  const res = await db.query<{ target: Target; pending: string; retrying: string; delivered: string; dead: string; oldest: string | null; last_error: string | null }>(
    `select target,
            count(*) filter (where status = 'pending') as pending,
            count(*) filter (where status = 'pending' and attempts > 0) as retrying,
            count(*) filter (where status = 'delivered') as delivered,
            count(*) filter (where status = 'dead') as dead,
            extract(epoch from now() - min(event_at) filter (where status = 'pending'))::text as oldest,
            (array_agg(last_error order by id desc) filter (where last_error is not null and status <> 'delivered'))[1] as last_error
       from ${OUTBOX_TABLE} group by target`,
  );
  const byTarget = new Map(res.rows.map((r) => [r.target, r] as const));
  return targets.map((target) => {
    const r = byTarget.get(target);
    if (!r) return empty(target);
    return {
      target, pending: Number(r.pending), retrying: Number(r.retrying), delivered: Number(r.delivered), dead: Number(r.dead),
      oldestPendingAgeSeconds: r.oldest ? Math.max(0, Number(r.oldest)) : 0, lastError: r.last_error,
    };
  });
};

/** Puts dead letters back in the queue (attempts reset, due now). Returns how many. */
export const retryDeadLetters = async (db: pg.Pool | pg.ClientBase, target?: Target): Promise<number> => {
  if (!(await outboxExists(db))) return 0;
  const res = await db.query(
    `update ${OUTBOX_TABLE} set status = 'pending', attempts = 0, next_attempt_at = now()
      where status = 'dead' and ($1::text is null or target = $1)`,
    [target ?? null],
  );
  return res.rowCount ?? 0;
};
