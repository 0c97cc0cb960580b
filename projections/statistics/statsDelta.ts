import { toCaseEvent } from '../../application/caseStream.ts';
import type { RecordedEvent } from '../../application/eventStore.ts';
import { isCaseStream, type CaseEvent } from '../../domain/case/events.ts';
import type { CaseStatus } from '../../domain/case/state.ts';
import { localDateOf, type LocalDate } from '../../domain/time.ts';

/**
 * The `statistics` read model, pure part. A page of events becomes deltas, aggregated in memory:
 * - daily counters per (CST day of `occurredAt`, region, department at that moment, item);
 * - moves of the current-status snapshot per (status, region, department, item);
 * - the per-case dimensions the next pages need (events after `CaseSubmitted` carry no region/item);
 * - display names of departments and items from `CaseSubmitted`'s item snapshot.
 *
 * A status-changing event counts only where the write side's `evolve` applies it (the same guards),
 * so the snapshot never drifts; the others (rating, rectification, red card) count on any existing case.
 * Events at or below a case's last applied revision are skipped (a replayed page changes nothing).
 */
export const COUNTERS = [
  'submitted', 'accepted', 'rejected', 'withdrawn', 'correction_expired', 'completed', 'approved', 'denied',
  'completed_on_time', 'working_days_sum', 'overdue', 'evaluations', 'score_sum', 'satisfied', 'bad_reviews',
  'bad_reviews_rectified',
] as const;
export type Counter = (typeof COUNTERS)[number];
export type Counters = Record<Counter, number>;

/** The event types the projection reads (the runner still advances over the others). */
export const STATS_EVENT_TYPES = [
  'CaseSubmitted', 'CorrectionRequested', 'CorrectionSupplied', 'CorrectionExpired', 'CaseAccepted', 'CaseRejected',
  'CaseSuspended', 'CaseResumed', 'CaseTransferred', 'CaseDecided', 'ResultDelivered', 'CaseWithdrawn',
  'CaseEvaluated', 'RectificationCompleted', 'DeadlineExceeded',
] as const satisfies readonly CaseEvent['type'][];

/** What the projection remembers of a case (`stats_case_dims`). */
export interface CaseDims {
  readonly caseId: string;
  readonly regionCode: string;
  readonly departmentCode: string;
  readonly itemCode: string;
  readonly status: CaseStatus;
  /** the last revision of the case's stream applied */
  readonly version: number;
}

export interface DailyDelta extends Counters {
  readonly day: LocalDate;
  readonly region_code: string;
  readonly department_code: string;
  readonly item_code: string;
}

export interface CurrentDelta {
  readonly status: string;
  readonly region_code: string;
  readonly department_code: string;
  readonly item_code: string;
  readonly n: number;
}

export interface NameRow {
  readonly kind: 'department' | 'item';
  readonly key: string;
  readonly name: string;
}

/** The same counters per calendar month (`month` = its first day) and per year: the rollups a long range sums. */
export interface MonthlyDelta extends Counters {
  readonly month: LocalDate;
  readonly region_code: string;
  readonly department_code: string;
  readonly item_code: string;
}

export interface YearlyDelta extends Counters {
  readonly year: number;
  readonly region_code: string;
  readonly department_code: string;
  readonly item_code: string;
}

/** What `byDay` needs when only regions are selected: submissions and completions per day and region. */
export interface DayRegionDelta {
  readonly day: LocalDate;
  readonly region_code: string;
  readonly submitted: number;
  readonly completed: number;
}

export interface StatsPage {
  /** dimensions of every case the page changed, as they stand after it */
  readonly dims: readonly CaseDims[];
  readonly daily: readonly DailyDelta[];
  readonly monthly: readonly MonthlyDelta[];
  readonly yearly: readonly YearlyDelta[];
  readonly dayRegion: readonly DayRegionDelta[];
  /** net moves of the snapshot (rows whose net is 0 are left out) */
  readonly current: readonly CurrentDelta[];
  readonly names: readonly NameRow[];
}

export const zeroCounters = (): Counters => Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Counters;

/** The statuses from which `evolve` applies each status-changing event, and where it leads. */
const TRANSITIONS: Partial<Record<CaseEvent['type'], { readonly from: readonly CaseStatus[]; readonly to: CaseStatus }>> = {
  CorrectionRequested: { from: ['SUBMITTED'], to: 'CORRECTION_REQUESTED' },
  CorrectionSupplied: { from: ['CORRECTION_REQUESTED'], to: 'SUBMITTED' },
  CorrectionExpired: { from: ['CORRECTION_REQUESTED'], to: 'CORRECTION_EXPIRED' },
  CaseAccepted: { from: ['SUBMITTED'], to: 'ACCEPTED' },
  CaseRejected: { from: ['SUBMITTED'], to: 'REJECTED' },
  CaseSuspended: { from: ['ACCEPTED'], to: 'SUSPENDED' },
  CaseResumed: { from: ['SUSPENDED'], to: 'ACCEPTED' },
  CaseDecided: { from: ['ACCEPTED'], to: 'COMPLETED' },
  ResultDelivered: { from: ['COMPLETED'], to: 'DELIVERED' },
  CaseWithdrawn: { from: ['SUBMITTED', 'CORRECTION_REQUESTED', 'ACCEPTED', 'SUSPENDED'], to: 'WITHDRAWN' },
};

/** The status after `event`, as the write side's `evolve` would fold it (unchanged where it ignores it). */
export const nextStatus = (status: CaseStatus, event: CaseEvent): CaseStatus => {
  if (event.type === 'CaseSubmitted') return status === 'NONE' ? 'SUBMITTED' : status;
  if (status === 'NONE') return status;
  const t = TRANSITIONS[event.type];
  return t && t.from.includes(status) ? t.to : status;
};

/** The counters one event adds, given the case's status before it. Empty when it counts nothing. */
export const countersOf = (before: CaseStatus, event: CaseEvent): Partial<Counters> => {
  const after = nextStatus(before, event);
  const changed = after !== before;
  switch (event.type) {
    case 'CaseSubmitted':
      return changed ? { submitted: 1 } : {};
    case 'CaseAccepted':
      return changed ? { accepted: 1 } : {};
    case 'CaseRejected':
      return changed ? { rejected: 1 } : {};
    case 'CaseWithdrawn':
      return changed ? { withdrawn: 1 } : {};
    case 'CorrectionExpired':
      return changed ? { correction_expired: 1 } : {};
    case 'CaseDecided': {
      if (!changed) return {};
      const d = event.data;
      return {
        completed: 1,
        ...(d.outcome === 'APPROVED' ? { approved: 1 } : { denied: 1 }),
        ...(d.onTime ? { completed_on_time: 1 } : {}),
        working_days_sum: d.workingDaysUsed,
      };
    }
    case 'DeadlineExceeded':
      return before === 'NONE' ? {} : { overdue: 1 };
    case 'CaseEvaluated': {
      if (before === 'NONE') return {};
      const s = event.data.score;
      return { evaluations: 1, score_sum: s, ...(s >= 4 ? { satisfied: 1 } : {}), ...(s <= 2 ? { bad_reviews: 1 } : {}) };
    }
    case 'RectificationCompleted':
      return before === 'NONE' ? {} : { bad_reviews_rectified: 1 };
    default:
      return {};
  }
};

const dailyKey = (day: string, region: string, dept: string, item: string) => `${day}|${region}|${dept}|${item}`;
const currentKey = (status: string, region: string, dept: string, item: string) => `${status}|${region}|${dept}|${item}`;

/**
 * Folds a page of the global log (in order) into the deltas to store. `known` holds the dimensions of
 * the page's cases as stored before it (cases not in it are new, or not ours).
 */
export const foldStatsPage = (known: ReadonlyMap<string, CaseDims>, events: readonly RecordedEvent[]): StatsPage => {
  const dims = new Map<string, CaseDims>();
  const daily = new Map<string, { day: LocalDate; region_code: string; department_code: string; item_code: string } & Counters>();
  const names = new Map<string, NameRow>();

  for (const e of events) {
    if (!isCaseStream(e.streamId)) continue;
    const caseId = e.streamId.slice('case-'.length);
    const before = dims.get(caseId) ?? known.get(caseId) ?? null;
    if (before && e.revision <= before.version) continue; // already applied
    const event = toCaseEvent(e);
    const status: CaseStatus = before?.status ?? 'NONE';

    let current = before;
    if (event.type === 'CaseSubmitted') {
      if (before) continue;
      const d = event.data;
      current = { caseId, regionCode: d.regionCode, departmentCode: d.departmentCode, itemCode: d.item.itemCode, status: 'NONE', version: -1 };
      names.set(`item|${d.item.itemCode}`, { kind: 'item', key: d.item.itemCode, name: d.item.name });
      names.set(`department|${d.item.departmentCode}`, { kind: 'department', key: d.item.departmentCode, name: d.item.departmentName });
    }
    if (!current) continue; // an event of a case whose submission we never saw: nothing to attribute it to

    const add = countersOf(status, event);
    const entries = Object.entries(add) as [Counter, number][];
    if (entries.length > 0) {
      const day = localDateOf(e.metadata.occurredAt);
      const key = dailyKey(day, current.regionCode, current.departmentCode, current.itemCode);
      let row = daily.get(key);
      if (!row) {
        row = { day, region_code: current.regionCode, department_code: current.departmentCode, item_code: current.itemCode, ...zeroCounters() };
        daily.set(key, row);
      }
      for (const [c, v] of entries) row[c] += v;
    }

    const departmentCode = event.type === 'CaseTransferred' ? event.data.toDepartmentCode : current.departmentCode;
    dims.set(caseId, { ...current, departmentCode, status: nextStatus(status, event), version: e.revision });
  }

  // the snapshot moves by each changed case's net change over the page
  const current = new Map<string, CurrentDelta & { n: number }>();
  const move = (s: string, region: string, dept: string, item: string, n: number) => {
    const key = currentKey(s, region, dept, item);
    const row = current.get(key) ?? { status: s, region_code: region, department_code: dept, item_code: item, n: 0 };
    row.n += n;
    current.set(key, row);
  };
  for (const after of dims.values()) {
    const was = known.get(after.caseId);
    if (was && was.status === after.status && was.departmentCode === after.departmentCode) continue;
    if (was && was.status !== 'NONE') move(was.status, was.regionCode, was.departmentCode, was.itemCode, -1);
    if (after.status !== 'NONE') move(after.status, after.regionCode, after.departmentCode, after.itemCode, 1);
  }

  const dailyRows = [...daily.values()];
  return {
    dims: [...dims.values()],
    daily: dailyRows,
    ...rollUp(dailyRows),
    current: [...current.values()].filter((r) => r.n !== 0),
    names: [...names.values()],
  };
};

/** The monthly, yearly and day×region rollups of a page's daily deltas. */
export const rollUp = (daily: readonly DailyDelta[]): Pick<StatsPage, 'monthly' | 'yearly' | 'dayRegion'> => {
  const monthly = new Map<string, MonthlyDelta & Counters>();
  const yearly = new Map<string, YearlyDelta & Counters>();
  const dayRegion = new Map<string, { day: LocalDate; region_code: string; submitted: number; completed: number }>();
  for (const r of daily) {
    const dims = `${r.region_code}|${r.department_code}|${r.item_code}`;
    const month = `${r.day.slice(0, 7)}-01`;
    const year = Number(r.day.slice(0, 4));
    const m = monthly.get(`${month}|${dims}`) ?? { month, region_code: r.region_code, department_code: r.department_code, item_code: r.item_code, ...zeroCounters() };
    const y = yearly.get(`${year}|${dims}`) ?? { year, region_code: r.region_code, department_code: r.department_code, item_code: r.item_code, ...zeroCounters() };
    for (const c of COUNTERS) {
      m[c] += r[c];
      y[c] += r[c];
    }
    monthly.set(`${month}|${dims}`, m);
    yearly.set(`${year}|${dims}`, y);
    const dr = dayRegion.get(`${r.day}|${r.region_code}`) ?? { day: r.day, region_code: r.region_code, submitted: 0, completed: 0 };
    dr.submitted += r.submitted;
    dr.completed += r.completed;
    dayRegion.set(`${r.day}|${r.region_code}`, dr);
  }
  return {
    monthly: [...monthly.values()],
    yearly: [...yearly.values()],
    // a day×region row with nothing to add would only create an empty row
    dayRegion: [...dayRegion.values()].filter((r) => r.submitted !== 0 || r.completed !== 0),
  };
};
