import type pg from 'pg';
import { validationFailed } from '../../domain/errors.ts';
import { isRegionCode, regionPrefix } from '../../domain/region.ts';
import { addCalendarDays, isLocalDate, type LocalDate } from '../../domain/time.ts';
import { splitPeriods } from './periods.ts';

/**
 * The `statistics` query of the contract, over the pre-aggregated tables of statisticsProjection.ts,
 * never a scan of cases. The range is cut into whole years (`stats_yearly`), whole months
 * (`stats_monthly`) and edge days (`stats_daily`); then four queries, in parallel on a pool:
 * 1. the totals over those rows;
 * 2. byDepartment and byItem over the same rows: over whole years two queries that run at once (a
 *    province-year has ~21k groups: two backends share the work), else one pass (`grouping sets`);
 *    one json array per column, without names (the names come from a per-pool cache that also knows
 *    each key's rank, so ~17k items are put in key order without string comparisons);
 * 3. byDay: `stats_daily` when a department or item is selected, else `stats_day_region`;
 * 4. inProgress and suspended: `stats_current` (now, not the range);
 * 5. the version of `stats_names`: the display names are cached per pool and read again only when
 *    the projection has changed one (it stamps `stats_names_version` with its transaction id).
 * (Plus, for an open-ended range, a first look-up of the first/last day with data.)
 */
export interface StatisticsFilter {
  /** GB/T 2260: `520000` covers every `52xxxx`, `520100` every `5201xx`, `520102` only itself */
  readonly regionCode?: string | null | undefined;
  readonly departmentCode?: string | null | undefined;
  readonly itemCode?: string | null | undefined;
  /** first CST day counted (inclusive) */
  readonly from?: LocalDate | null | undefined;
  /** last CST day counted (inclusive) */
  readonly to?: LocalDate | null | undefined;
}

/**
 * What the caller may see, on top of the filter: a department (clerks, reviewers), a region by
 * GB/T 2260 prefix (supervisors), both, or `'all'` (auditors, admins). An object with neither field
 * sees nothing (every figure 0).
 */
export type StatisticsScope = { readonly departmentCode?: string | undefined; readonly regionCode?: string | undefined } | 'all';

export interface DailyCount {
  readonly date: LocalDate;
  readonly submitted: number;
  readonly completed: number;
}

export interface GroupCount {
  readonly key: string;
  readonly name: string | null;
  readonly submitted: number;
  readonly completed: number;
  readonly onTimeRate: number | null;
}

/**
 * The contract's `Statistics`. Every figure is for events whose CST day lies in [from, to] and that
 * were attributed to a department/region/item the filter and scope select — except `inProgress`
 * (cases ACCEPTED now) and `suspended` (cases SUSPENDED now): current counts, not bound to the dates,
 * under the department that holds the case now.
 */
export interface Statistics {
  readonly submitted: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly withdrawn: number;
  /** cases in processing (ACCEPTED) now; ignores from/to */
  readonly inProgress: number;
  /** cases in a special procedure (SUSPENDED) now; ignores from/to */
  readonly suspended: number;
  readonly completed: number;
  readonly approved: number;
  readonly denied: number;
  readonly completedOnTime: number;
  /** red cards (DeadlineExceeded) raised in the range */
  readonly overdue: number;
  /** completedOnTime / completed; null when nothing was completed */
  readonly onTimeRate: number | null;
  /** working days from acceptance to decision (paused days excluded), averaged over completed cases */
  readonly averageWorkingDays: number | null;
  readonly evaluations: number;
  readonly averageScore: number | null;
  /** share of ratings ≥ 4 */
  readonly satisfactionRate: number | null;
  /** ratings ≤ 2 */
  readonly badReviews: number;
  readonly badReviewsRectified: number;
  /** every day of the range, zeros included: [from, to], an open end being the first/last day with a submission or completion */
  readonly byDay: readonly DailyCount[];
  /** departments with any counted event in the range, by key */
  readonly byDepartment: readonly GroupCount[];
  /** items with any counted event in the range, by key */
  readonly byItem: readonly GroupCount[];
}

/** byDay lists every day of the range: a longer range is refused rather than answered with a huge list. */
export const MAX_BY_DAY_DAYS = 3_700;

const ratio = (num: number, den: number): number | null => (den === 0 ? null : num / den);

const dayCount = (from: LocalDate, to: LocalDate) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;

/**
 * The conditions of filter ∧ scope on the dimension columns, as SQL over parameters pushed to `params`.
 * `fine`: whether they name a department or an item (else only regions, which `stats_day_region` has).
 */
const dimensionConditions = (filter: StatisticsFilter, scope: StatisticsScope, params: unknown[]) => {
  const where: string[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (filter.regionCode) where.push(`region_code like ${p(`${regionPrefix(filter.regionCode)}%`)}`);
  if (filter.departmentCode) where.push(`department_code = ${p(filter.departmentCode)}`);
  if (filter.itemCode) where.push(`item_code = ${p(filter.itemCode)}`);
  if (scope !== 'all') {
    if (!scope.departmentCode && !scope.regionCode) where.push('false');
    if (scope.regionCode) where.push(`region_code like ${p(`${regionPrefix(scope.regionCode)}%`)}`);
    if (scope.departmentCode) where.push(`department_code = ${p(scope.departmentCode)}`);
  }
  const fine = Boolean(filter.departmentCode || filter.itemCode || (scope !== 'all' && scope.departmentCode));
  return { where, fine };
};

const validate = (filter: StatisticsFilter, scope: StatisticsScope) => {
  if (filter.regionCode && !isRegionCode(filter.regionCode)) throw validationFailed('regionCode', 'a 6-digit GB/T 2260 region code');
  if (filter.from && !isLocalDate(filter.from)) throw validationFailed('from', 'a date YYYY-MM-DD');
  if (filter.to && !isLocalDate(filter.to)) throw validationFailed('to', 'a date YYYY-MM-DD');
  if (filter.from && filter.to && dayCount(filter.from, filter.to) > MAX_BY_DAY_DAYS)
    throw validationFailed('to', `at most ${MAX_BY_DAY_DAYS} days from \`from\``);
  if (scope !== 'all' && scope.regionCode && !isRegionCode(scope.regionCode)) throw new Error(`scope: not a region code: ${scope.regionCode}`);
};

const SUMS = [
  'submitted', 'accepted', 'rejected', 'withdrawn', 'completed', 'approved', 'denied', 'completed_on_time',
  'working_days_sum', 'overdue', 'evaluations', 'score_sum', 'satisfied', 'bad_reviews', 'bad_reviews_rectified',
] as const;
type TotalRow = Record<(typeof SUMS)[number], string | null>;
/** the groups, column by column (null when there is none) */
type GroupRow = {
  kind: number[] | null; key: string[] | null; submitted: number[] | null; completed: number[] | null; on_time: number[] | null;
};

/** A department's or item's display name, and its place among all keys of its kind in key order. */
interface NameEntry {
  readonly name: string;
  readonly rank: number;
}
interface Names {
  readonly department: ReadonlyMap<string, NameEntry>;
  readonly item: ReadonlyMap<string, NameEntry>;
}

/** Display names of departments and items, per pool (or client), with the `stats_names_version` they were read at. */
const namesCache = new WeakMap<object, { readonly version: string | null; readonly names: Names }>();
const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

const namesAt = async (db: pg.Pool | pg.ClientBase, version: string | null): Promise<Names> => {
  const cached = namesCache.get(db);
  if (cached && cached.version === version) return cached.names;
  // read after the version: the names are at least that new (a later change only makes the next query read them again)
  const res = await db.query<{ kind: 'department' | 'item'; key: string; name: string }>('select kind, key, name from stats_names');
  const ranked = (kind: string) => {
    const rows = res.rows.filter((r) => r.kind === kind).sort(byKey);
    return new Map(rows.map((r, rank) => [r.key, { name: r.name, rank }] as const));
  };
  const names: Names = { department: ranked('department'), item: ranked('item') };
  namesCache.set(db, { version, names });
  return names;
};

/**
 * Groups in key order. The names cache knows every key's rank, so a large list (a province's ~17k
 * items) is placed by rank in one pass instead of sorted with string comparisons; a short list, or
 * one with keys the names do not know yet, is sorted.
 */
const inKeyOrder = (groups: GroupCount[], ranks: ReadonlyMap<string, NameEntry>): GroupCount[] => {
  if (groups.length * 8 < ranks.size) return groups.sort(byKey);
  const slots: (GroupCount | undefined)[] = new Array<GroupCount | undefined>(ranks.size);
  for (const g of groups) {
    const rank = ranks.get(g.key)?.rank;
    if (rank === undefined) return groups.sort(byKey);
    slots[rank] = g;
  }
  const out: GroupCount[] = [];
  for (const g of slots) if (g) out.push(g);
  return out;
};

type DayRow = { day: string; submitted: string; completed: string };

const num = (v: string | null | undefined): number => (v == null ? 0 : Number(v));

/**
 * Which lists to compute (default: all). A resolver that knows its selection set passes it: a
 * province has ~20k items, and a dashboard that shows only the totals should not pay for them.
 * A list not asked for comes back empty.
 */
export interface StatisticsParts {
  readonly byDay?: boolean;
  readonly byDepartment?: boolean;
  readonly byItem?: boolean;
}

/** The groups of one json-arrays row into the two lists (a small function of its own: it runs ~21k times per province-year). */
const collectGroups = (g: GroupRow, names: Names, byDepartment: GroupCount[], byItem: GroupCount[]): void => {
  const keys = g.key ?? [];
  const kinds = g.kind ?? [];
  const submitted = g.submitted ?? [];
  const completed = g.completed ?? [];
  const onTime = g.on_time ?? [];
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const item = kinds[i] === 1;
    const done = completed[i] ?? 0;
    (item ? byItem : byDepartment).push({
      key, name: (item ? names.item : names.department).get(key)?.name ?? null, submitted: submitted[i] ?? 0, completed: done,
      onTimeRate: ratio(onTime[i] ?? 0, done),
    });
  }
};

export const queryStatistics = async (
  db: pg.Pool | pg.ClientBase,
  filter: StatisticsFilter,
  scope: StatisticsScope,
  parts: StatisticsParts = {},
): Promise<Statistics> => {
  validate(filter, scope);
  const want = { byDay: parts.byDay ?? true, byDepartment: parts.byDepartment ?? true, byItem: parts.byItem ?? true };
  // an open end of the range: the first/last day with any data (the period split needs both ends)
  let from = filter.from ?? null;
  let to = filter.to ?? null;
  if (!from || !to) {
    const span = await db.query<{ first: string | null; last: string | null }>(
      `select to_char(min(day), 'YYYY-MM-DD') as first, to_char(max(day), 'YYYY-MM-DD') as last from stats_daily`,
    );
    from ??= span.rows[0]?.first ?? null;
    to ??= span.rows[0]?.last ?? null;
  }
  const periods = from && to ? splitPeriods(from, to) : { years: [], months: [], days: [] };

  // 1. totals, and byDepartment + byItem: whole years + whole months + edge days
  const periodRows = (columns: string, params: unknown[]) => {
    const dims = dimensionConditions(filter, scope, params).where;
    const branch = (table: string, col: string, type: string, values: readonly unknown[]) => {
      params.push(values);
      return `select ${columns} from ${table} where ${[`${col} = any($${params.length}::${type}[])`, ...dims].join(' and ')}`;
    };
    return [
      ...(periods.years.length > 0 ? [branch('stats_yearly', 'year', 'int', periods.years)] : []),
      ...(periods.months.length > 0 ? [branch('stats_monthly', 'month', 'date', periods.months)] : []),
      ...(periods.days.length > 0 ? [branch('stats_daily', 'day', 'date', periods.days)] : []),
    ].join(' union all ');
  };
  const totalParams: unknown[] = [];
  const totalRows = periodRows(SUMS.join(', '), totalParams);
  // The groups travel as one json array per column; names come from the cache. Over whole years
  // only (few rows, many groups: aggregation dominates) departments and items are two queries that run
  // at once on two backends; over months and days (many rows: the scan dominates) one query reads the
  // rows once for both (`grouping sets`). `kind`: 0 a department, 1 an item.
  const noGroups = Promise.resolve({ rows: [] as GroupRow[] });
  const groupsBy = (columns: readonly ('department_code' | 'item_code')[]) => {
    if (columns.length === 0) return noGroups;
    const params: unknown[] = [];
    const rows = periodRows('department_code, item_code, submitted, completed, completed_on_time', params);
    const [key, kind] = columns.length === 2 ? ['coalesce(department_code, item_code)', 'grouping(department_code)']
      : [columns[0]!, columns[0] === 'item_code' ? '1' : '0'];
    return rows === '' ? noGroups : db.query<GroupRow>(
      `select array_to_json(array_agg(g.kind)) as kind, array_to_json(array_agg(g.key)) as key, array_to_json(array_agg(g.submitted)) as submitted,
              array_to_json(array_agg(g.completed)) as completed, array_to_json(array_agg(g.on_time)) as on_time
         from (select ${kind} as kind, ${key} as key,
                      sum(submitted)::int8 as submitted, sum(completed)::int8 as completed, sum(completed_on_time)::int8 as on_time
                 from (${rows}) r group by grouping sets (${columns.map((c) => `(${c})`).join(', ')})) g`,
      params,
    );
  };
  const wanted = [...(want.byDepartment ? ['department_code' as const] : []), ...(want.byItem ? ['item_code' as const] : [])];
  const split = periods.months.length === 0 && periods.days.length === 0;

  // 2. byDay: the daily table when a department or item is selected, else the day×region rollup
  const dayParams: unknown[] = [];
  const dayDims = dimensionConditions(filter, scope, dayParams);
  dayParams.push(from, to);
  const dayWhere = [...dayDims.where, `day between $${dayParams.length - 1}::date and $${dayParams.length}::date`].join(' and ');
  // 3. the current-status snapshot
  const nowParams: unknown[] = [];
  const nowWhere = [...dimensionConditions(filter, scope, nowParams).where, `status in ('ACCEPTED', 'SUSPENDED')`].join(' and ');

  const [totals, departmentGroups, itemGroups, daily, now, namesVersion] = await Promise.all([
    totalRows === '' ? Promise.resolve({ rows: [] as TotalRow[] }) : db.query<TotalRow>(
      `select ${SUMS.map((c) => `sum(${c})::int8 as ${c}`).join(', ')} from (${totalRows}) r`, totalParams),
    split ? groupsBy(wanted.filter((c) => c === 'department_code')) : groupsBy(wanted),
    split ? groupsBy(wanted.filter((c) => c === 'item_code')) : noGroups,
    !from || !to || !want.byDay ? Promise.resolve({ rows: [] as DayRow[] }) : db.query<DayRow>(
      `select to_char(day, 'YYYY-MM-DD') as day, sum(submitted)::int8 as submitted, sum(completed)::int8 as completed
         from ${dayDims.fine ? 'stats_daily' : 'stats_day_region'} where ${dayWhere}
        group by day having sum(submitted) > 0 or sum(completed) > 0`,
      dayParams,
    ),
    db.query<{ status: string; n: string }>(`select status, sum(n)::int8 as n from stats_current where ${nowWhere} group by status`, nowParams),
    !want.byDepartment && !want.byItem ? Promise.resolve(null) : db.query<{ version: string }>('select version from stats_names_version'),
  ]);

  const total = totals.rows[0];
  const lists = [departmentGroups.rows[0], itemGroups.rows[0]];
  const names = lists.some((g) => (g?.key?.length ?? 0) > 0)
    ? await namesAt(db, namesVersion?.rows[0]?.version ?? null) : { department: new Map<string, NameEntry>(), item: new Map<string, NameEntry>() };
  const byDepartment: GroupCount[] = [];
  const byItem: GroupCount[] = [];
  for (const g of lists) if (g) collectGroups(g, names, byDepartment, byItem);

  const days = new Map(daily.rows.map((r) => [r.day, { date: r.day, submitted: num(r.submitted), completed: num(r.completed) }]));
  const seen = [...days.keys()].sort();
  const first = filter.from ?? seen[0];
  const last = filter.to ?? seen.at(-1);
  const byDay: DailyCount[] = [];
  if (want.byDay && first && last && first <= last) {
    if (dayCount(first, last) > MAX_BY_DAY_DAYS) throw validationFailed('from', `byDay covers at most ${MAX_BY_DAY_DAYS} days: give a shorter range`);
    for (let d = first; d <= last; d = addCalendarDays(d, 1)) byDay.push(days.get(d) ?? { date: d, submitted: 0, completed: 0 });
  }

  const s = (c: (typeof SUMS)[number]) => num(total?.[c]);
  const current = (status: string) => num(now.rows.find((r) => r.status === status)?.n);
  return {
    submitted: s('submitted'),
    accepted: s('accepted'),
    rejected: s('rejected'),
    withdrawn: s('withdrawn'),
    inProgress: current('ACCEPTED'),
    suspended: current('SUSPENDED'),
    completed: s('completed'),
    approved: s('approved'),
    denied: s('denied'),
    completedOnTime: s('completed_on_time'),
    overdue: s('overdue'),
    onTimeRate: ratio(s('completed_on_time'), s('completed')),
    averageWorkingDays: ratio(s('working_days_sum'), s('completed')),
    evaluations: s('evaluations'),
    averageScore: ratio(s('score_sum'), s('evaluations')),
    satisfactionRate: ratio(s('satisfied'), s('evaluations')),
    badReviews: s('bad_reviews'),
    badReviewsRectified: s('bad_reviews_rectified'),
    byDay,
    byDepartment: inKeyOrder(byDepartment, names.department),
    byItem: inKeyOrder(byItem, names.item),
  };
};
