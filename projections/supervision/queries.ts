import type { AlertLevel } from '../../domain/case/deadline.ts';
import type { Principal } from '../../domain/permissions.ts';
import { isLocalDate, type Instant, type LocalDate } from '../../domain/time.ts';
import {
  alertLevelSql, caseScopeFor, caseViewFromRow, CASE_RECORD_COLUMNS, checkAlertLevel, checkCountMode, checkFirst, checkRegionCode, checkToday, countSql, emptyPage,
  decodeCursor, encodeCursor, isEmptyScope, Params, regionSql, scopeImpliedBy, scopeSql, UUID_RE,
  type CaseRecord, type CaseScope, type CaseView, type CountMode, type Page, type Queryable,
} from '../cases/queries.ts';

/**
 * 电子监察: the open cases (clock running, or paused by a special procedure) by deadline, soonest
 * first, each with its alert level and its 督办 notices. Three statements per page whatever its size:
 * the page, the count, and the notices of the page's cases.
 */

export interface SupervisionNoticeView {
  readonly id: string;
  readonly content: string;
  readonly issuedAt: Instant;
  readonly replyBy: LocalDate;
  readonly answer: string | null;
  readonly answeredAt: Instant | null;
  /** answered by `replyBy`; null while unanswered */
  readonly onTime: boolean | null;
}

export interface SupervisionEntryView {
  readonly case: CaseView;
  readonly level: AlertLevel;
  readonly deadline: LocalDate | null;
  /** as on the case: only while the clock runs (a suspended case's deadline moves when it resumes) */
  readonly remainingWorkingDays: number | null;
  readonly notices: readonly SupervisionNoticeView[];
}

export interface SupervisionFilter {
  readonly regionCode?: string | null | undefined;
  readonly departmentCode?: string | null | undefined;
  readonly level?: AlertLevel | null | undefined;
}

export interface SearchSupervisionInput {
  readonly filter?: SupervisionFilter | null | undefined;
  readonly scope: CaseScope;
  /** 1..200 */
  readonly first: number;
  readonly after?: string | null | undefined;
  readonly today: LocalDate;
  /** How `totalCount` is computed; default exact. */
  readonly count?: CountMode | undefined;
}

/**
 * Supervision is read by supervisors (their region), clerks and reviewers (their department), auditors and
 * admins (all): the case scope without an applicant's own cases.
 */
export const supervisionScopeFor = (p: Principal): CaseScope => ({ ...caseScopeFor(p), ownerIds: [] });

const SUPERVISION_CURSOR = 's1';
/** A supervision page may be longer than a case list page (a dashboard of a region's open cases). */
export const MAX_FIRST = 200;

const decodeSupervisionCursor = (after: string) => {
  const [deadline, id] = decodeCursor(after, SUPERVISION_CURSOR, (parts) =>
    parts.length === 2 && isLocalDate(parts[0]!) && UUID_RE.test(parts[1]!));
  return { deadline: deadline!, id: id! };
};

const present = <T>(v: T | null | undefined): v is T => v !== null && v !== undefined;

interface NoticeRow {
  notice_id: string;
  case_id: string;
  content: string;
  issued_at: Date;
  reply_by: string;
  answer: string | null;
  answered_at: Date | null;
  on_time: boolean | null;
}

export const searchSupervision = async (db: Queryable, input: SearchSupervisionInput): Promise<Page<SupervisionEntryView>> => {
  checkFirst(input.first, MAX_FIRST);
  checkToday(input.today);
  checkCountMode(input.count);
  const cursor = present(input.after) ? decodeSupervisionCursor(input.after) : null;
  const filter = input.filter ?? {};
  const p = new Params();
  const where = [`(clock_running or status = 'SUSPENDED')`, 'deadline is not null'];
  if (present(filter.regionCode)) {
    checkRegionCode('filter.regionCode', filter.regionCode);
    where.push(regionSql(filter.regionCode, p));
  }
  if (present(filter.departmentCode)) where.push(`department_code = ${p.add(filter.departmentCode)}`);
  if (present(filter.level)) where.push(alertLevelSql(checkAlertLevel('filter.level', filter.level), p.add(input.today)));
  if (isEmptyScope(input.scope)) return emptyPage(input.count);
  const scope = scopeImpliedBy(input.scope, filter) ? null : scopeSql(input.scope, p);
  if (scope !== null) where.push(scope);
  const countParams = new Params();
  countParams.values.push(...p.values);
  const counting = countSql('cases', where, input.count, countParams);
  if (cursor) where.push(`(deadline, case_id) > (${p.add(cursor.deadline)}::date, ${p.add(cursor.id)}::uuid)`);
  const pageSql = `select ${CASE_RECORD_COLUMNS} from cases where ${where.join(' and ')}
                    order by cases.deadline, cases.case_id limit ${p.add(input.first + 1)}`; // the column, not the text alias
  const [page, count] = await Promise.all([
    db.query<CaseRecord>(pageSql, p.values),
    counting === null ? null : db.query<{ n: number; capped: boolean }>(counting, countParams.values),
  ]);
  const rows = page.rows.slice(0, input.first);
  const notices = new Map<string, SupervisionNoticeView[]>();
  if (rows.length > 0) {
    const res = await db.query<NoticeRow>(
      `select notice_id, case_id, content, issued_at, reply_by::text as reply_by, answer, answered_at, on_time
         from supervision_notices where case_id = any($1::uuid[]) order by issued_at, notice_id`,
      [rows.map((r) => r.case_id)],
    );
    for (const n of res.rows) {
      const list = notices.get(n.case_id) ?? [];
      list.push({
        id: n.notice_id, content: n.content, issuedAt: n.issued_at.toISOString(), replyBy: n.reply_by,
        answer: n.answer, answeredAt: n.answered_at?.toISOString() ?? null, onTime: n.on_time,
      });
      notices.set(n.case_id, list);
    }
  }
  const edges = rows.map((r) => {
    const view = caseViewFromRow(r, input.today);
    const node: SupervisionEntryView = {
      case: view, level: view.alertLevel, deadline: view.deadline, remainingWorkingDays: view.remainingWorkingDays, notices: notices.get(r.case_id) ?? [],
    };
    return { cursor: encodeCursor(SUPERVISION_CURSOR, [r.deadline!, r.case_id]), node };
  });
  return {
    nodes: edges.map((e) => e.node),
    edges,
    hasNextPage: page.rows.length > input.first,
    endCursor: edges.at(-1)?.cursor ?? null,
    totalCount: count === null ? null : (count.rows[0]?.n ?? 0),
    totalCountCapped: count?.rows[0]?.capped ?? false,
  };
};
