/**
 * The working-day calendar (工作日历) of the mainland offices: Monday–Friday, minus the statutory
 * holidays, plus the weekend days the State Council declares working days (调休上班), per year as
 * published in the General Office's yearly notice (see holidays20XX.ts).
 *
 * Pure and deterministic: no I/O, no clock. A date in a year without an official notice is never
 * guessed: every function throws `calendarYearMissing` (code VALIDATION_FAILED, reason
 * CALENDAR_YEAR_MISSING) for it, including when a count of working days runs into such a year.
 *
 * Everything is precomputed once at module load into a day-indexed table covering Jan 1 of the
 * first year with data to Dec 31 of the last one, with a running count of working days and the
 * list of working-day indices, so every query is O(1) (plus date parsing).
 */
import type { LocalDate } from '../time.ts';
import { addCalendarDays, dayOfWeek, isLocalDate, yearOf } from '../time.ts';
import { calendarYearMissing, validationFailed } from '../errors.ts';
import { calendar2025 } from './holidays2025.ts';
import { calendar2026 } from './holidays2026.ts';

/** One year's State Council holiday notice, as data. */
export type YearCalendar = {
  readonly year: number;
  /** Notice number and/or title the data was transcribed from. */
  readonly source: string;
  /** Every day of every holiday period (weekend days inside a period included). */
  readonly holidays: readonly LocalDate[];
  /** Weekend days that are working days (调休上班). */
  readonly makeUpWorkdays: readonly LocalDate[];
};

const CALENDARS: readonly YearCalendar[] = [calendar2025, calendar2026];

const MS_PER_DAY = 86_400_000;

/** Days since 1970-01-01 of a date already known to be a valid `YYYY-MM-DD`. */
const epochDay = (date: LocalDate): number =>
  Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / MS_PER_DAY;

type Table = {
  readonly years: readonly number[];
  readonly available: ReadonlySet<number>;
  /** epochDay of index 0 (Jan 1 of the first year with data). */
  readonly startDay: number;
  /** The date of each index. */
  readonly dates: readonly LocalDate[];
  /** 1 for a working day; 0 for a day off or a day in a year without data. */
  readonly working: Uint8Array;
  /** cum[i] = number of working days at indices 0..i. */
  readonly cum: Int32Array;
  /** Indices of the working days, ascending: workingIdx[k - 1] is the k-th working day. */
  readonly workingIdx: Int32Array;
  /** Per year with data: the first year after it without data, and the index where it starts (or dates.length). */
  readonly forward: ReadonlyMap<number, { readonly missingYear: number; readonly limit: number }>;
  /** Per year with data: the last year before it without data, and the first index after it (or 0). */
  readonly backward: ReadonlyMap<number, { readonly missingYear: number; readonly limit: number }>;
};

const dataError = (year: number, message: string): Error =>
  new Error(`working-day calendar data for ${year}: ${message}`);

const buildTable = (calendars: readonly YearCalendar[]): Table => {
  if (calendars.length === 0) throw new Error('working-day calendar: no year data');
  const available = new Set<number>();
  for (const c of calendars) {
    if (!Number.isInteger(c.year)) throw dataError(c.year, 'year is not an integer');
    if (available.has(c.year)) throw dataError(c.year, 'duplicate year');
    available.add(c.year);
  }
  const years = Object.freeze([...available].sort((a, b) => a - b));
  const minYear = years[0]!;
  const maxYear = years[years.length - 1]!;

  // Collect the declared days, checking the data is well-formed. A notice may name a date of an
  // adjacent year (e.g. 元旦 starting Dec 31), so dates within one year of the notice are accepted.
  const holidays = new Set<LocalDate>();
  const makeUp = new Set<LocalDate>();
  for (const c of calendars) {
    const check = (d: LocalDate, kind: string): void => {
      if (typeof d !== 'string' || !isLocalDate(d)) throw dataError(c.year, `${kind} ${String(d)} is not a YYYY-MM-DD date`);
      if (Math.abs(yearOf(d) - c.year) > 1) throw dataError(c.year, `${kind} ${d} is too far from the notice year`);
      if (holidays.has(d) || makeUp.has(d)) throw dataError(c.year, `${d} is declared twice`);
    };
    for (const d of c.holidays) {
      check(d, 'holiday');
      holidays.add(d);
    }
    for (const d of c.makeUpWorkdays) {
      check(d, 'make-up workday');
      const dow = dayOfWeek(d);
      if (dow !== 0 && dow !== 6) throw dataError(c.year, `make-up workday ${d} is not a Saturday or Sunday`);
      makeUp.add(d);
    }
  }

  const first = `${String(minYear).padStart(4, '0')}-01-01`;
  const startDay = epochDay(first);
  const length = epochDay(`${String(maxYear).padStart(4, '0')}-12-31`) - startDay + 1;
  const dates: LocalDate[] = new Array<LocalDate>(length);
  const working = new Uint8Array(length);
  const cum = new Int32Array(length);
  const workingList: number[] = [];
  const yearStart = new Map<number, number>();
  let date = first;
  let count = 0;
  for (let i = 0; i < length; i++) {
    dates[i] = date;
    const y = yearOf(date);
    if (!yearStart.has(y)) yearStart.set(y, i);
    if (available.has(y)) {
      const dow = dayOfWeek(date);
      const isWork = makeUp.has(date) || (dow >= 1 && dow <= 5 && !holidays.has(date));
      if (isWork) {
        working[i] = 1;
        count++;
        workingList.push(i);
      }
    }
    cum[i] = count;
    date = addCalendarDays(date, 1);
  }

  const forward = new Map<number, { missingYear: number; limit: number }>();
  const backward = new Map<number, { missingYear: number; limit: number }>();
  for (const y of years) {
    let next = y + 1;
    while (available.has(next)) next++;
    forward.set(y, { missingYear: next, limit: next > maxYear ? length : yearStart.get(next)! });
    let prev = y - 1;
    while (available.has(prev)) prev--;
    backward.set(y, { missingYear: prev, limit: prev < minYear ? 0 : yearStart.get(prev + 1)! });
  }

  return Object.freeze({
    years,
    available,
    startDay,
    dates: Object.freeze(dates),
    working,
    cum,
    workingIdx: Int32Array.from(workingList),
    forward,
    backward,
  });
};

const T: Table = buildTable(CALENDARS);

const assertDate = (date: unknown): LocalDate => {
  if (typeof date !== 'string' || !isLocalDate(date)) {
    throw validationFailed('date', 'not a YYYY-MM-DD calendar date', { value: date });
  }
  return date;
};

/** Table index of a date, after checking it is a real date in a year with data. */
const indexOf = (date: LocalDate): number => {
  const d = assertDate(date);
  const year = yearOf(d);
  if (!T.available.has(year)) throw calendarYearMissing(year, T.years);
  return epochDay(d) - T.startDay;
};

/** The k-th working day (1-based) of the table, searching forward from a date of `year`. */
const kthWorkingForward = (k: number, year: number): LocalDate => {
  const bound = T.forward.get(year)!;
  const idx = k <= T.workingIdx.length ? T.workingIdx[k - 1]! : -1;
  if (idx < 0 || idx >= bound.limit) throw calendarYearMissing(bound.missingYear, T.years);
  return T.dates[idx]!;
};

/** The k-th working day (1-based) of the table, searching backward from a date of `year`. */
const kthWorkingBackward = (k: number, year: number): LocalDate => {
  const bound = T.backward.get(year)!;
  const idx = k >= 1 ? T.workingIdx[k - 1]! : -1;
  if (idx < 0 || idx < bound.limit) throw calendarYearMissing(bound.missingYear, T.years);
  return T.dates[idx]!;
};

/** The years for which official calendar data is loaded, ascending. */
export const availableYears = (): readonly number[] => T.years;

/** Whether `date` is a working day (Mon–Fri minus holidays, plus make-up working weekends). */
export const isWorkingDay = (date: LocalDate): boolean => T.working[indexOf(date)] === 1;

/**
 * The date `days` working days after `from` (`from` itself not counted); `days = 0` returns `from`;
 * negative `days` counts backwards (`-1` is the last working day before `from`).
 */
export const addWorkingDays = (from: LocalDate, days: number): LocalDate => {
  const i = indexOf(from);
  if (typeof days !== 'number' || !Number.isInteger(days)) {
    throw validationFailed('days', 'must be an integer', { value: days });
  }
  if (days === 0) return from;
  const year = yearOf(from);
  if (days > 0) return kthWorkingForward(T.cum[i]! + days, year);
  // Working days strictly before `from` number cum[i] - working[i]; step back |days| of them.
  return kthWorkingBackward(T.cum[i]! - T.working[i]! + days + 1, year);
};

/**
 * The number of working days d with from < d <= to; 0 when equal; when `to` is before `from`, the
 * negative of `workingDaysBetween(to, from)`.
 */
export const workingDaysBetween = (from: LocalDate, to: LocalDate): number => {
  const i = indexOf(from);
  const j = indexOf(to);
  const lo = Math.min(yearOf(from), yearOf(to));
  const hi = Math.max(yearOf(from), yearOf(to));
  for (let y = lo + 1; y < hi; y++) if (!T.available.has(y)) throw calendarYearMissing(y, T.years);
  return T.cum[j]! - T.cum[i]!;
};

/** `date` when it is a working day, else the first working day after it. */
export const nextWorkingDayOnOrAfter = (date: LocalDate): LocalDate => {
  const i = indexOf(date);
  if (T.working[i] === 1) return date;
  return kthWorkingForward(T.cum[i]! + 1, yearOf(date));
};
