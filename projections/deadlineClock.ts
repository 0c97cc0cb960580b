import type pg from 'pg';
import { handleCaseCommand, type CaseCommandInput, type CaseDeps } from '../application/cases.ts';
import { GovcaseError } from '../domain/errors.ts';
import type { Principal } from '../domain/permissions.ts';
import { localDateOf } from '../domain/time.ts';

/**
 * The deadline clock (电子监察): finds, in the `cases` read model, cases whose working-day deadline is
 * near or past, corrections past their limit, bad ratings not rectified in time and 督办 notices past
 * their reply date, and appends the matching events through the normal command path — so every card
 * is in the audit trail and survives replay. Each command's id is derived from what it flags
 * (`clock:exceeded:<case>`), so two clocks running at once still raise each card exactly once.
 */
export interface DeadlineClockOptions {
  readonly pool: pg.Pool;
  readonly deps: CaseDeps;
  readonly connectionString: string;
  readonly schema?: string;
  readonly intervalMs?: number;
  readonly log?: (msg: string) => void;
}

export interface TickReport {
  readonly today: string;
  readonly warnings: number;
  readonly exceeded: number;
  readonly correctionsExpired: number;
  readonly rectificationsOverdue: number;
  readonly noticesOverdue: number;
  readonly skipped: number;
}

export interface DeadlineClock {
  tick(): Promise<TickReport>;
  start(): void;
  stop(): Promise<void>;
}

export const deadlineClockPrincipal: Principal = { id: 'govcase-deadline-clock', roles: ['system'] };

const LOCK = [0x6763 + 2, 0x0c10c4] as const;
const PAGE = 500;

export const createDeadlineClock = (options: DeadlineClockOptions): DeadlineClock => {
  const { pool, deps } = options;
  const log = options.log ?? (() => {});
  const intervalMs = options.intervalMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let leader: pg.PoolClient | undefined;
  let stopped = false;

  const issue = async (caseId: string, key: string, input: CaseCommandInput): Promise<'done' | 'skipped'> => {
    try {
      const r = await handleCaseCommand(deps, caseId, input, { principal: deadlineClockPrincipal, commandId: `clock:${key}`, clientApp: 'deadline-clock' });
      return r.events.length > 0 || r.duplicate ? 'done' : 'skipped';
    } catch (err) {
      // the read model was behind the stream: the case moved on (decided, resumed, answered)
      if (err instanceof GovcaseError && (err.code === 'INVALID_TRANSITION' || err.code === 'NOT_FOUND')) return 'skipped';
      throw err;
    }
  };

  const ids = async (sql: string, today: string) => (await pool.query<{ case_id: string; extra: string | null }>(sql, [today, PAGE])).rows;

  const tick = async (): Promise<TickReport> => {
    const today = localDateOf(deps.clock.now());
    const counts = { warnings: 0, exceeded: 0, correctionsExpired: 0, rectificationsOverdue: 0, noticesOverdue: 0, skipped: 0 };
    const run = async (kind: keyof typeof counts, sql: string, command: (row: { case_id: string; extra: string | null }) => [string, CaseCommandInput]) => {
      for (const row of await ids(sql, today)) {
        const [key, input] = command(row);
        if ((await issue(row.case_id, key, input)) === 'done') counts[kind]++;
        else counts.skipped++;
      }
    };
    await run('exceeded',
      `select case_id, null as extra from cases where clock_running and deadline < $1::date
         and not coalesce((state->'clock'->>'exceededRaised')::boolean, false) order by deadline limit $2`,
      (r) => [`exceeded:${r.case_id}`, { type: 'MarkDeadlineExceeded', data: {} }]);
    await run('warnings',
      `select case_id, null as extra from cases where clock_running and warning_from <= $1::date and deadline >= $1::date
         and not coalesce((state->'clock'->>'warningRaised')::boolean, false)
         and not coalesce((state->'clock'->>'exceededRaised')::boolean, false) order by deadline limit $2`,
      (r) => [`warning:${r.case_id}`, { type: 'RaiseDeadlineWarning', data: {} }]);
    await run('correctionsExpired',
      `select case_id, null as extra from cases where status = 'CORRECTION_REQUESTED'
         and (state->'correction'->>'deadline') < $1 limit $2`,
      (r) => [`correction-expired:${r.case_id}`, { type: 'ExpireCorrection', data: {} }]);
    await run('rectificationsOverdue',
      `select case_id, null as extra from cases where (state->'evaluation'->>'bad')::boolean
         and state->'evaluation'->>'rectifiedAt' is null
         and not coalesce((state->'evaluation'->>'overdueFlagged')::boolean, false)
         and (state->'evaluation'->>'rectificationDeadline') < $1 limit $2`,
      (r) => [`rectification-overdue:${r.case_id}`, { type: 'FlagRectificationOverdue', data: {} }]);
    await run('noticesOverdue',
      `select c.case_id, n->>'noticeId' as extra from cases c, jsonb_array_elements(c.state->'notices') n
        where jsonb_array_length(c.state->'notices') > 0 and n->>'answeredAt' is null
          and not coalesce((n->>'overdueFlagged')::boolean, false) and (n->>'replyBy') < $1 limit $2`,
      (r) => [`notice-overdue:${r.extra}`, { type: 'FlagSupervisionNoticeOverdue', data: { noticeId: r.extra! } }]);
    const report = { today, ...counts };
    if (Object.values(counts).some((n) => n > 0)) log(`deadline clock ${today}: ${JSON.stringify(counts)}`);
    return report;
  };

  /** One leader across nodes: a session advisory lock held on a pooled connection while leading. */
  const leadAndTick = async () => {
    if (leader) {
      try {
        await leader.query('select 1');
      } catch (err) {
        leader.release(err as Error); // the lock went with the connection
        leader = undefined;
      }
    }
    if (!leader) {
      const c = await pool.connect();
      const got = (await c.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [...LOCK])).rows[0]?.ok;
      if (!got) {
        c.release();
        return;
      }
      leader = c;
    }
    await tick();
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = leadAndTick()
        .catch((err) => log(`deadline clock: ${(err as Error).message}`))
        .finally(schedule);
    }, intervalMs);
    timer.unref?.();
  };

  return {
    tick,
    start() {
      stopped = false;
      running = leadAndTick().catch((err) => log(`deadline clock: ${(err as Error).message}`)).finally(schedule);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      if (leader) {
        await leader.query('select pg_advisory_unlock($1, $2)', [...LOCK]).catch(() => {});
        leader.release();
        leader = undefined;
      }
    },
  };
};
