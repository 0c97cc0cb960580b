import type pg from 'pg';
import type { AlertLevel } from '../../domain/case/deadline.ts';
import { validationFailed } from '../../domain/errors.ts';
import type { Principal } from '../../domain/permissions.ts';
import { isRegionCode, regionCovers, regionPrefix } from '../../domain/region.ts';
import { isLocalDate, localDateOf, type LocalDate } from '../../domain/time.ts';

/**
 * Reads of the `cases` read model: one case, and the filtered, scoped, keyset-paginated list.
 * The view is the contract's `Case` computed from the row at query time (alert level and remaining
 * working days depend on `today`). Masking personal data is the API's decision (`seesPersonalData`);
 * `maskApplicant` is the helper it applies.
 */

/** Anything that runs a query: a pool or a checked-out client. */
export type Queryable = Pick<pg.Pool, 'query'>;

export * from './caseView.ts';
import { caseViewFromRow, type CaseRecord, type CaseView, type CaseViewStatus } from './caseView.ts';
// ---------------------------------------------------------------------------------------------
// Scope: what a principal may see, as data (mirrors `canReadCase`)
// ---------------------------------------------------------------------------------------------

export interface CaseScope {
  /** auditor, admin, system: every case */
  readonly all: boolean;
  /** applicant: cases they own */
  readonly ownerIds: readonly string[];
  /** clerk, reviewer: cases of their department */
  readonly departmentCodes: readonly string[];
  /** supervisor: cases in the regions these GB/T 2260 codes cover */
  readonly regionCodes: readonly string[];
}

export const NO_SCOPE: CaseScope = Object.freeze({ all: false, ownerIds: [], departmentCodes: [], regionCodes: [] });
export const ALL_SCOPE: CaseScope = Object.freeze({ all: true, ownerIds: [], departmentCodes: [], regionCodes: [] });

/** The cases a principal may read: the OR of what each of its roles grants; no role, nothing. */
export const caseScopeFor = (p: Principal): CaseScope => {
  if (p.roles.some((r) => r === 'auditor' || r === 'admin' || r === 'system')) return ALL_SCOPE;
  const ownerIds = p.roles.includes('applicant') && p.id ? [p.id] : [];
  const departmentCodes = (p.roles.includes('clerk') || p.roles.includes('reviewer')) && p.departmentCode ? [p.departmentCode] : [];
  const regionCodes = p.roles.includes('supervisor') && p.regionCode !== undefined && isRegionCode(p.regionCode) ? [p.regionCode] : [];
  return { all: false, ownerIds, departmentCodes, regionCodes };
};

export const isEmptyScope = (s: CaseScope): boolean =>
  !s.all && s.ownerIds.length === 0 && s.departmentCodes.length === 0 && s.regionCodes.length === 0;

/** The same rule as the SQL, for one case (`CaseView` fits). */
export const scopeAllows = (s: CaseScope, t: { readonly ownerId: string | null; readonly departmentCode: string; readonly regionCode: string }): boolean =>
  s.all ||
  (t.ownerId !== null && s.ownerIds.includes(t.ownerId)) ||
  s.departmentCodes.includes(t.departmentCode) ||
  s.regionCodes.some((r) => regionCovers(r, t.regionCode));

// ---------------------------------------------------------------------------------------------
// SQL building blocks (shared with the supervision queries)
// ---------------------------------------------------------------------------------------------

/** Collects `$n` parameters. */
export class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

/**
 * The rows a GB/T 2260 code covers, in the form the indexes serve best: a county by equality; a
 * prefecture as the list of its 100 possible codes (so `(region_code, submitted_at)` is probed per
 * county with the date range bounded, instead of reading every row of the prefecture); a province
 * by prefix.
 */
export const regionSql = (code: string, p: Params): string => {
  if (!code.endsWith('00')) return `region_code = ${p.add(code)}`;
  const prefix = regionPrefix(code);
  if (prefix.length === 4) return `region_code = any(${p.add(Array.from({ length: 100 }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`))}::text[])`;
  return `region_code like ${p.add(`${prefix}%`)}`;
};

/** True when every row the filter selects is within the scope, so the scope adds nothing to the query. */
export const scopeImpliedBy = (scope: CaseScope, filter: { readonly departmentCode?: string | null | undefined; readonly regionCode?: string | null | undefined }): boolean =>
  scope.all ||
  (typeof filter.departmentCode === 'string' && scope.departmentCodes.includes(filter.departmentCode)) ||
  (typeof filter.regionCode === 'string' && isRegionCode(filter.regionCode) && scope.regionCodes.some((r) => regionCovers(r, filter.regionCode!)));

/** The scope as a condition: null for no condition, `false` for nothing visible. */
export const scopeSql = (scope: CaseScope, p: Params): string | null => {
  if (scope.all) return null;
  const or: string[] = [];
  if (scope.ownerIds.length > 0) or.push(scope.ownerIds.length === 1 ? `owner_id = ${p.add(scope.ownerIds[0])}` : `owner_id = any(${p.add(scope.ownerIds)}::text[])`);
  if (scope.departmentCodes.length > 0)
    or.push(scope.departmentCodes.length === 1 ? `department_code = ${p.add(scope.departmentCodes[0])}` : `department_code = any(${p.add(scope.departmentCodes)}::text[])`);
  for (const r of scope.regionCodes) or.push(regionSql(r, p));
  return or.length === 0 ? 'false' : or.length === 1 ? or[0]! : `(${or.join(' or ')})`;
};

/** The alert-level rule of `alertLevelOf`, in SQL (the row's columns against `today`). */
export const alertLevelSql = (level: AlertLevel, today: string): string => {
  const overdue = `(clock_running and deadline < ${today}::date)`;
  const warning = `(clock_running and warning_from <= ${today}::date and deadline >= ${today}::date)`;
  switch (level) {
    case 'OVERDUE':
      return overdue;
    case 'WARNING':
      return warning;
    case 'NORMAL':
      return `not coalesce(${overdue} or ${warning}, false)`;
  }
};

export const ALERT_LEVELS: readonly AlertLevel[] = ['NORMAL', 'WARNING', 'OVERDUE'];
export const CASE_STATUSES: readonly CaseViewStatus[] = [
  'SUBMITTED', 'CORRECTION_REQUESTED', 'ACCEPTED', 'SUSPENDED', 'COMPLETED', 'DELIVERED', 'REJECTED', 'WITHDRAWN', 'CORRECTION_EXPIRED',
];

export const checkFirst = (first: number, max = 100): void => {
  if (!Number.isInteger(first) || first < 1 || first > max) throw validationFailed('first', `must be an integer from 1 to ${max}`, { first });
};

export const checkToday = (today: LocalDate): void => {
  if (typeof today !== 'string' || !isLocalDate(today)) throw validationFailed('today', 'must be a YYYY-MM-DD date', { today });
};

export const checkRegionCode = (field: string, code: string): void => {
  if (!isRegionCode(code)) throw validationFailed(field, 'must be a 6-digit GB/T 2260 region code', { value: code });
};

export const checkAlertLevel = (field: string, level: string): AlertLevel => {
  if (!(ALERT_LEVELS as readonly string[]).includes(level)) throw validationFailed(field, `must be one of ${ALERT_LEVELS.join(', ')}`, { value: level });
  return level as AlertLevel;
};

/** An opaque cursor: base64url of a JSON array of strings, tagged with its kind. */
export const encodeCursor = (kind: string, parts: readonly string[]): string =>
  Buffer.from(JSON.stringify([kind, ...parts]), 'utf8').toString('base64url');

export const decodeCursor = (cursor: string, kind: string, check: (parts: readonly string[]) => boolean): string[] => {
  const bad = () => validationFailed('after', 'not a cursor of this list', { after: cursor });
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 400 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed[0] !== kind || !parsed.every((x) => typeof x === 'string')) throw bad();
  const parts = parsed.slice(1) as string[];
  if (!check(parts)) throw bad();
  return parts;
};

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CURSOR_INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
/** `YYYY-MM-DDTHH:MM:SS.ffffffZ` naming a real instant (Date.parse alone would roll 02-30 over into March). */
const isCursorInstant = (v: string): boolean => {
  if (!CURSOR_INSTANT_RE.test(v)) return false;
  const ms = Date.parse(v);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === v.slice(0, 19);
};
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** The columns a view needs, dates as text (node-pg would turn a `date` into a local-midnight Date). */
export const CASE_RECORD_COLUMNS = `case_id, version, deadline::text as deadline, warning_from::text as warning_from, clock_running, state`;

/** Today in China Standard Time, where the offices (and their deadlines) are. */
export const todayCst = (): LocalDate => localDateOf(new Date());

// ---------------------------------------------------------------------------------------------
// One case
// ---------------------------------------------------------------------------------------------

/** One case by id; null when there is none (a malformed id cannot name one). */
export const getCase = async (db: Queryable, caseId: string, today: LocalDate = todayCst()): Promise<CaseView | null> => {
  if (typeof caseId !== 'string' || !UUID_RE.test(caseId.toLowerCase())) return null;
  checkToday(today);
  const res = await db.query<CaseRecord>(`select ${CASE_RECORD_COLUMNS} from cases where case_id = $1::uuid`, [caseId.toLowerCase()]);
  const row = res.rows[0];
  return row ? caseViewFromRow(row, today) : null;
};

/** One case by its 办件编号; null when there is none. */
export const getCaseByNumber = async (db: Queryable, caseNumber: string, today: LocalDate = todayCst()): Promise<CaseView | null> => {
  checkToday(today);
  const res = await db.query<CaseRecord>(`select ${CASE_RECORD_COLUMNS} from cases where case_number = $1`, [caseNumber]);
  const row = res.rows[0];
  return row ? caseViewFromRow(row, today) : null;
};

// ---------------------------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------------------------

/** The contract's `CaseFilter`; the applicant's ID number comes already blind-indexed. Nulls mean "any". */
export interface CaseFilter {
  /** any of these; an empty list means any status */
  readonly status?: readonly string[] | null | undefined;
  readonly itemCode?: string | null | undefined;
  readonly departmentCode?: string | null | undefined;
  /** a 6-digit GB/T 2260 code: 520000 the province, 520100 a prefecture, 520102 a county */
  readonly regionCode?: string | null | undefined;
  readonly alertLevel?: AlertLevel | null | undefined;
  /** ISO-8601 instants with an offset; from inclusive, to exclusive */
  readonly submittedFrom?: string | null | undefined;
  readonly submittedTo?: string | null | undefined;
  readonly caseNumber?: string | null | undefined;
  readonly applicantIndex?: string | null | undefined;
}

export interface SearchCasesInput {
  readonly filter?: CaseFilter | null | undefined;
  readonly scope: CaseScope;
  /** 1..100 */
  readonly first: number;
  readonly after?: string | null | undefined;
  readonly today: LocalDate;
  /** How `totalCount` is computed; default exact. See `CountMode`. */
  readonly count?: CountMode | undefined;
}

/**
 * `exact`: every match (the contract's meaning). `{ atMost: n }`: stop counting at n (`totalCountCapped`
 * says there are more) — bounds the cost of broad lists. `skip`: no count at all (`totalCount` null), for
 * a client that did not select the field.
 */
export type CountMode = 'exact' | 'skip' | { readonly atMost: number };

export interface Edge<T> {
  readonly cursor: string;
  readonly node: T;
}

export interface Page<T> {
  readonly nodes: readonly T[];
  readonly edges: readonly Edge<T>[];
  readonly hasNextPage: boolean;
  readonly endCursor: string | null;
  /** every match of the filter within the scope, whatever the cursor (capped or null per `CountMode`) */
  readonly totalCount: number | null;
  /** true when counting stopped at the cap: there are more than `totalCount` */
  readonly totalCountCapped: boolean;
}

export const checkCountMode = (count: CountMode | undefined): void => {
  if (count === undefined || count === 'exact' || count === 'skip') return;
  if (typeof count !== 'object' || count === null || !Number.isInteger(count.atMost) || count.atMost < 1)
    throw validationFailed('count', 'exact, skip, or { atMost: a positive integer }', { count });
};

/** The count statement for a WHERE clause, per mode (null: none). Reads `n` and `capped`. */
export const countSql = (from: string, where: readonly string[], count: CountMode | undefined, p: Params): string | null => {
  const cond = where.length > 0 ? ` where ${where.join(' and ')}` : '';
  if (count === 'skip') return null;
  if (count === undefined || count === 'exact') return `select count(*)::int as n, false as capped from ${from}${cond}`;
  const cap = p.add(count.atMost + 1);
  return `select least(count(*), ${cap}::int - 1)::int as n, count(*) >= ${cap}::int as capped from (select 1 from ${from}${cond} limit ${cap}::int) x`;
};

export const emptyPage = <T>(count: CountMode | undefined): Page<T> =>
  ({ nodes: [], edges: [], hasNextPage: false, endCursor: null, totalCount: count === 'skip' ? null : 0, totalCountCapped: false });

const instant = (field: string, v: string): string => {
  if (typeof v !== 'string' || !INSTANT_RE.test(v) || Number.isNaN(Date.parse(v)) || !isLocalDate(v.slice(0, 10)))
    throw validationFailed(field, 'must be an ISO-8601 date-time with an offset', { value: v });
  return new Date(v).toISOString();
};

const present = <T>(v: T | null | undefined): v is T => v !== null && v !== undefined;

/** The WHERE conditions of a filter (validated); `today()` adds the date parameter when a condition needs it. */
export const caseFilterSql = (filter: CaseFilter, today: () => string, p: Params): string[] => {
  const where: string[] = [];
  if (present(filter.status) && filter.status.length > 0) {
    for (const s of filter.status)
      if (!(CASE_STATUSES as readonly string[]).includes(s)) throw validationFailed('filter.status', `unknown status ${String(s)}`, { value: s });
    where.push(filter.status.length === 1 ? `status = ${p.add(filter.status[0])}` : `status = any(${p.add([...new Set(filter.status)])}::text[])`);
  }
  if (present(filter.itemCode)) where.push(`item_code = ${p.add(filter.itemCode)}`);
  if (present(filter.departmentCode)) where.push(`department_code = ${p.add(filter.departmentCode)}`);
  if (present(filter.regionCode)) {
    checkRegionCode('filter.regionCode', filter.regionCode);
    where.push(regionSql(filter.regionCode, p));
  }
  if (present(filter.alertLevel)) where.push(alertLevelSql(checkAlertLevel('filter.alertLevel', filter.alertLevel), today()));
  if (present(filter.submittedFrom)) where.push(`submitted_at >= ${p.add(instant('filter.submittedFrom', filter.submittedFrom))}::timestamptz`);
  if (present(filter.submittedTo)) where.push(`submitted_at < ${p.add(instant('filter.submittedTo', filter.submittedTo))}::timestamptz`);
  if (present(filter.caseNumber)) where.push(`case_number = ${p.add(filter.caseNumber)}`);
  if (present(filter.applicantIndex)) where.push(`applicant_index = ${p.add(filter.applicantIndex)}`);
  return where;
};

const CASES_CURSOR = 'c1';

const decodeCasesCursor = (after: string): { at: string; id: string } => {
  const [at, id] = decodeCursor(after, CASES_CURSOR, (parts) =>
    parts.length === 2 && isCursorInstant(parts[0]!) && UUID_RE.test(parts[1]!));
  return { at: at!, id: id! };
};

/**
 * Cases matching `filter` within `scope`, newest first (submitted_at desc, case_id desc), keyset-paginated.
 * Two statements, run side by side: the page (first + 1 rows, to know whether more follow) and the count.
 */
export const searchCases = async (db: Queryable, input: SearchCasesInput): Promise<Page<CaseView>> => {
  checkFirst(input.first);
  checkToday(input.today);
  checkCountMode(input.count);
  const cursor = present(input.after) ? decodeCasesCursor(input.after) : null;
  const p = new Params();
  const filter = input.filter ?? {};
  const where = caseFilterSql(filter, () => p.add(input.today), p);
  if (isEmptyScope(input.scope)) return emptyPage(input.count);
  // a condition the filter already implies only skews the planner's estimates
  const scope = scopeImpliedBy(input.scope, filter) ? null : scopeSql(input.scope, p);
  if (scope !== null) where.push(scope);
  const countParams = new Params();
  countParams.values.push(...p.values);
  // conditions on the counted columns only (status, item, department, region; not an applicant's own
  // cases): the maintained counts answer, however many cases match
  const counted = !present(filter.alertLevel) && !present(filter.submittedFrom) && !present(filter.submittedTo) &&
    !present(filter.caseNumber) && !present(filter.applicantIndex) && (input.scope.all || input.scope.ownerIds.length === 0 || scope === null);
  const fromCounts = () => {
    const cap = typeof input.count === 'object' ? countParams.add(input.count.atMost) : '2147483647';
    return `select least(s, ${cap}::bigint)::int as n, s > ${cap}::bigint as capped
              from (select coalesce(sum(n), 0) as s from case_counts${where.length > 0 ? ` where ${where.join(' and ')}` : ''}) x`;
  };
  const counting = counted && input.count !== 'skip' ? fromCounts() : countSql('cases', where, input.count, countParams);
  if (cursor) where.push(`(submitted_at, case_id) < (${p.add(cursor.at)}::timestamptz, ${p.add(cursor.id)}::uuid)`);
  const pageSql = `select ${CASE_RECORD_COLUMNS},
                          to_char(submitted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at
                     from cases${where.length > 0 ? ` where ${where.join(' and ')}` : ''}
                    order by submitted_at desc, case_id desc limit ${p.add(input.first + 1)}`;
  const [page, count] = await Promise.all([
    db.query<CaseRecord & { cursor_at: string }>(pageSql, p.values),
    counting === null ? null : db.query<{ n: number; capped: boolean }>(counting, countParams.values),
  ]);
  const rows = page.rows.slice(0, input.first);
  const edges = rows.map((r) => ({ cursor: encodeCursor(CASES_CURSOR, [r.cursor_at, r.case_id]), node: caseViewFromRow(r, input.today) }));
  return {
    nodes: edges.map((e) => e.node),
    edges,
    hasNextPage: page.rows.length > input.first,
    endCursor: edges.at(-1)?.cursor ?? null,
    totalCount: count === null ? null : (count.rows[0]?.n ?? 0),
    totalCountCapped: count?.rows[0]?.capped ?? false,
  };
};
