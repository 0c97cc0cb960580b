import { addCalendarDays, type LocalDate } from '../../domain/time.ts';

/**
 * A date range cut into the coarsest pre-aggregated periods that tile it exactly: whole calendar
 * years, then whole months, then the days left at the edges. `[from, to]` inclusive; empty when
 * `from > to`. A year-long range from Jan 1 is one year; Jan 15 – Apr 10 is 17 days, 2 months, 10 days.
 */
export interface Periods {
  readonly years: readonly number[];
  /** first day of each whole month */
  readonly months: readonly LocalDate[];
  readonly days: readonly LocalDate[];
}

const endOfMonth = (first: LocalDate): LocalDate => {
  const y = Number(first.slice(0, 4));
  const m = Number(first.slice(5, 7));
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
};

export const splitPeriods = (from: LocalDate, to: LocalDate): Periods => {
  const years: number[] = [];
  const months: LocalDate[] = [];
  const days: LocalDate[] = [];
  let d = from;
  while (d <= to) {
    const year = d.slice(0, 4);
    if (d.slice(5) === '01-01' && `${year}-12-31` <= to) {
      years.push(Number(year));
      d = `${String(Number(year) + 1).padStart(4, '0')}-01-01`;
    } else if (d.slice(8) === '01' && endOfMonth(d) <= to) {
      months.push(d);
      d = addCalendarDays(endOfMonth(d), 1);
    } else {
      days.push(d);
      d = addCalendarDays(d, 1);
    }
  }
  return { years, months, days };
};
