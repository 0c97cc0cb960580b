import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it, expect } from 'vitest';
import * as chineseDaysModule from 'chinese-days';
import {
  addWorkingDays,
  availableYears,
  isWorkingDay,
  nextWorkingDayOnOrAfter,
  workingDaysBetween,
} from '../../domain/calendar/index.ts';
import type { YearCalendar } from '../../domain/calendar/index.ts';
import { calendar2025 } from '../../domain/calendar/holidays2025.ts';
import { calendar2026 } from '../../domain/calendar/holidays2026.ts';
import { addCalendarDays, dayOfWeek } from '../../domain/time.ts';
import type { LocalDate } from '../../domain/time.ts';

// ---------------------------------------------------------------------------------------------
// helpers

/** Every date from `from` to `to`, both included. */
const datesIn = (from: LocalDate, to: LocalDate): LocalDate[] => {
  const out: LocalDate[] = [];
  for (let d = from; d <= to; d = addCalendarDays(d, 1)) out.push(d);
  return out;
};

const ALL_2025_2026 = datesIn('2025-01-01', '2026-12-31');

/** Runs `fn` and returns what it threw (fails the test when it does not throw). */
const thrown = (fn: () => unknown): { code?: unknown; details?: Record<string, unknown> } => {
  try {
    fn();
  } catch (e) {
    return e as { code?: unknown; details?: Record<string, unknown> };
  }
  throw new Error('expected a throw');
};

const expectYearMissing = (fn: () => unknown, year: number): void => {
  const e = thrown(fn);
  expect(e.code).toBe('VALIDATION_FAILED');
  expect(e.details?.reason).toBe('CALENDAR_YEAR_MISSING');
  expect(e.details?.year).toBe(year);
  expect(e.details?.available).toEqual([2025, 2026]);
};

/** Reference implementation: walk day by day using isWorkingDay only. */
const naiveAdd = (from: LocalDate, days: number): LocalDate => {
  const step = days > 0 ? 1 : -1;
  let left = Math.abs(days);
  let d = from;
  while (left > 0) {
    d = addCalendarDays(d, step);
    if (isWorkingDay(d)) left--;
  }
  return d;
};

// chinese-days is a UMD/CommonJS bundle: depending on the loader its functions are on the
// namespace itself or on its `default` export. Resolve once, typed by what we use.
type ChineseDaysApi = { isWorkday: (date: Date) => boolean };
const cdNs = chineseDaysModule as unknown as Partial<ChineseDaysApi> & { default?: Partial<ChineseDaysApi> };
const chineseDays = (typeof cdNs.isWorkday === 'function' ? cdNs : cdNs.default) as ChineseDaysApi;

/** chinese-days' own data (the package ships it as JSON): date → description, per kind. */
type ChineseDaysData = { holidays: Record<string, string>; workdays: Record<string, string> };
const chineseDaysData = JSON.parse(
  readFileSync(createRequire(import.meta.url).resolve('chinese-days/dist/chinese-days.json'), 'utf8'),
) as ChineseDaysData;
const cdDatesOf = (table: Record<string, string>, year: number): string[] =>
  Object.keys(table).filter((d) => d.startsWith(`${year}-`)).sort();

const chineseDaysHasYear = (year: number): boolean => cdDatesOf(chineseDaysData.holidays, year).length > 0;

/**
 * chinese-days builds its lookup table from UTC-midnight dates but reads them back (and reads the
 * weekday of the argument) with local-time getters, so its isWorkday is off by one day for every
 * date in time zones west of UTC, whatever form the argument takes. Its answers are only
 * meaningful at UTC or east of it (China is UTC+8).
 */
const hostWestOfUtc = [0, 6].some((m) => new Date(2026, m, 1).getTimezoneOffset() > 0);

/** A local-noon Date is the same calendar day under local-time getters. */
const localNoon = (d: LocalDate): Date =>
  new Date(Number(d.slice(0, 4)), Number(d.slice(5, 7)) - 1, Number(d.slice(8, 10)), 12);

// ---------------------------------------------------------------------------------------------

describe('calendar data', () => {
  it('has 2025 and 2026', () => {
    expect(availableYears()).toEqual([2025, 2026]);
  });

  it.each<[YearCalendar, number, number]>([
    [calendar2025, 28, 5],
    [calendar2026, 33, 6],
  ])('$year notice: holiday and make-up day counts', (cal, holidays, makeUps) => {
    expect(cal.holidays).toHaveLength(holidays);
    expect(cal.makeUpWorkdays).toHaveLength(makeUps);
    for (const d of cal.makeUpWorkdays) expect([0, 6]).toContain(dayOfWeek(d));
    for (const d of cal.holidays) expect(isWorkingDay(d)).toBe(false);
    for (const d of cal.makeUpWorkdays) expect(isWorkingDay(d)).toBe(true);
  });

  it('counts 248 working days in 2025 and in 2026 (weekdays − holidays on weekdays + make-up days)', () => {
    // 2025: 261 weekdays − 18 holidays on weekdays (1+6+1+3+1+6) + 5 make-up days = 248
    // 2026: 261 weekdays − 19 holidays on weekdays (2+6+1+3+1+1+5) + 6 make-up days = 248
    // (from, to] counts: Jan 1 2025 is itself a holiday, so (Jan 1, Dec 31] is the whole of 2025.
    expect(workingDaysBetween('2025-01-01', '2025-12-31')).toBe(248);
    expect(workingDaysBetween('2025-12-31', '2026-12-31')).toBe(248);
  });
});

describe('isWorkingDay', () => {
  it('2026 National Day: Oct 1–7 off, Sun Sep 20 and Sat Oct 10 working', () => {
    for (const d of datesIn('2026-10-01', '2026-10-07')) expect(isWorkingDay(d), d).toBe(false);
    expect(isWorkingDay('2026-09-20')).toBe(true); // Sunday, 调休上班
    expect(isWorkingDay('2026-10-10')).toBe(true); // Saturday, 调休上班
    expect(isWorkingDay('2026-09-19')).toBe(false); // ordinary Saturday
    expect(isWorkingDay('2026-10-11')).toBe(false); // ordinary Sunday
    expect(isWorkingDay('2026-09-30')).toBe(true);
    expect(isWorkingDay('2026-10-08')).toBe(true);
  });

  it('2026 Mid-Autumn: Sep 25–27 off', () => {
    for (const d of datesIn('2026-09-25', '2026-09-27')) expect(isWorkingDay(d), d).toBe(false);
    expect(isWorkingDay('2026-09-24')).toBe(true);
    expect(isWorkingDay('2026-09-28')).toBe(true);
  });

  it('2026 Spring Festival: Feb 15–23 off, Sat Feb 14 and Sat Feb 28 working', () => {
    for (const d of datesIn('2026-02-15', '2026-02-23')) expect(isWorkingDay(d), d).toBe(false);
    expect(isWorkingDay('2026-02-14')).toBe(true);
    expect(isWorkingDay('2026-02-28')).toBe(true);
    expect(isWorkingDay('2026-02-13')).toBe(true);
    expect(isWorkingDay('2026-02-24')).toBe(true);
    expect(isWorkingDay('2026-03-01')).toBe(false); // ordinary Sunday
  });

  it('2026 元旦: Jan 1–3 off, Sun Jan 4 working', () => {
    for (const d of ['2026-01-01', '2026-01-02', '2026-01-03']) expect(isWorkingDay(d), d).toBe(false);
    expect(isWorkingDay('2026-01-04')).toBe(true);
    expect(isWorkingDay('2025-12-31')).toBe(true);
  });

  it('2025 Spring Festival and National Day + Mid-Autumn', () => {
    for (const d of datesIn('2025-01-28', '2025-02-04')) expect(isWorkingDay(d), d).toBe(false);
    expect(isWorkingDay('2025-01-26')).toBe(true);
    expect(isWorkingDay('2025-02-08')).toBe(true);
    for (const d of datesIn('2025-10-01', '2025-10-08')) expect(isWorkingDay(d), d).toBe(false);
    expect(isWorkingDay('2025-09-28')).toBe(true);
    expect(isWorkingDay('2025-10-11')).toBe(true);
  });

  it('plain weekdays work and plain weekends do not', () => {
    expect(isWorkingDay('2026-03-02')).toBe(true); // Monday
    expect(isWorkingDay('2026-03-07')).toBe(false); // Saturday
    expect(isWorkingDay('2026-03-08')).toBe(false); // Sunday
  });

  it('rejects strings that are not real YYYY-MM-DD dates', () => {
    for (const bad of ['2026-02-30', '2026-13-01', '2026-1-5', '20260105', '', 'tomorrow', '2026-01-05T00:00:00Z']) {
      const e = thrown(() => isWorkingDay(bad));
      expect(e.code, bad).toBe('VALIDATION_FAILED');
      expect(e.details?.field, bad).toBe('date');
      expect(e.details?.reason, bad).toBeUndefined();
    }
    expect(thrown(() => isWorkingDay(undefined as unknown as string)).code).toBe('VALIDATION_FAILED');
  });
});

describe('addWorkingDays', () => {
  it('across 2026 National Day and Mid-Autumn', () => {
    // Wed Sep 30 → Oct 1–7 are off → Thu Oct 8 is the first working day after it.
    expect(addWorkingDays('2026-09-30', 1)).toBe('2026-10-08');
    // Thu Sep 24 → Fri–Sun Sep 25–27 off (中秋) → Mon 28 (1), Tue 29 (2), Wed 30 (3),
    // Oct 1–7 off, Thu Oct 8 (4), Fri Oct 9 (5), Sat Oct 10 调休 (6), Sun Oct 11 off, Mon Oct 12 (7).
    expect(addWorkingDays('2026-09-24', 1)).toBe('2026-09-28');
    expect(addWorkingDays('2026-09-24', 3)).toBe('2026-09-30');
    expect(addWorkingDays('2026-09-24', 4)).toBe('2026-10-08');
    expect(addWorkingDays('2026-09-24', 6)).toBe('2026-10-10');
    expect(addWorkingDays('2026-09-24', 7)).toBe('2026-10-12');
    // Fri Sep 18 → Sat Sep 19 off, Sun Sep 20 调休 → Sep 20.
    expect(addWorkingDays('2026-09-18', 1)).toBe('2026-09-20');
    // From a holiday: Sat Oct 3 → first working day after it is Thu Oct 8.
    expect(addWorkingDays('2026-10-03', 1)).toBe('2026-10-08');
  });

  it('across 2026 Spring Festival', () => {
    // Fri Feb 13 → Sat Feb 14 is 调休 (1) → Feb 15–23 off → Tue Feb 24 (2) … Fri Feb 27 (5), Sat Feb 28 调休 (6),
    // Sun Mar 1 off, Mon Mar 2 (7).
    expect(addWorkingDays('2026-02-13', 1)).toBe('2026-02-14');
    expect(addWorkingDays('2026-02-13', 2)).toBe('2026-02-24');
    expect(addWorkingDays('2026-02-13', 6)).toBe('2026-02-28');
    expect(addWorkingDays('2026-02-13', 7)).toBe('2026-03-02');
  });

  it('across 2025 Spring Festival', () => {
    // Mon Jan 27 2025 → Jan 28–Feb 4 off → Wed Feb 5 (1), Thu 6 (2), Fri 7 (3), Sat Feb 8 调休 (4), Mon Feb 10 (5).
    expect(addWorkingDays('2025-01-27', 1)).toBe('2025-02-05');
    expect(addWorkingDays('2025-01-27', 4)).toBe('2025-02-08');
    expect(addWorkingDays('2025-01-27', 5)).toBe('2025-02-10');
  });

  it('across the 2025 → 2026 year end and 元旦 2026', () => {
    // Tue Dec 30 2025 → Wed Dec 31 (1), Jan 1–3 off, Sun Jan 4 调休 (2), Mon Jan 5 (3).
    expect(addWorkingDays('2025-12-30', 1)).toBe('2025-12-31');
    expect(addWorkingDays('2025-12-30', 2)).toBe('2026-01-04');
    expect(addWorkingDays('2025-12-30', 3)).toBe('2026-01-05');
    expect(addWorkingDays('2025-12-31', 1)).toBe('2026-01-04');
  });

  it('negative days count backwards (from not counted)', () => {
    // Mon Jan 5 2026 ← Sun Jan 4 调休 (1) ← Jan 1–3 off ← Wed Dec 31 2025 (2) ← Tue Dec 30 (3).
    expect(addWorkingDays('2026-01-05', -1)).toBe('2026-01-04');
    expect(addWorkingDays('2026-01-05', -2)).toBe('2025-12-31');
    expect(addWorkingDays('2026-01-05', -3)).toBe('2025-12-30');
    // Thu Oct 8 ← Oct 1–7 off ← Wed Sep 30 (1).
    expect(addWorkingDays('2026-10-08', -1)).toBe('2026-09-30');
    // Sun Oct 11 (off) ← Sat Oct 10 调休 (1) ← Fri Oct 9 (2) ← Thu Oct 8 (3) ← Wed Sep 30 (4).
    expect(addWorkingDays('2026-10-11', -1)).toBe('2026-10-10');
    expect(addWorkingDays('2026-10-11', -4)).toBe('2026-09-30');
    // Tue Feb 24 ← Feb 15–23 off ← Sat Feb 14 调休 (1) ← Fri Feb 13 (2).
    expect(addWorkingDays('2026-02-24', -1)).toBe('2026-02-14');
    expect(addWorkingDays('2026-02-24', -2)).toBe('2026-02-13');
  });

  it('days = 0 returns from, working day or not', () => {
    expect(addWorkingDays('2026-10-03', 0)).toBe('2026-10-03');
    expect(addWorkingDays('2026-03-02', 0)).toBe('2026-03-02');
    expect(addWorkingDays('2026-03-08', -0)).toBe('2026-03-08');
  });

  it('rejects non-integer days and bad dates', () => {
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, -0.1]) {
      const e = thrown(() => addWorkingDays('2026-03-02', bad));
      expect(e.code, String(bad)).toBe('VALIDATION_FAILED');
      expect(e.details?.field, String(bad)).toBe('days');
    }
    expect(thrown(() => addWorkingDays('2026-02-29', 1)).details?.field).toBe('date');
  });

  it('agrees with a day-by-day walk for every start date of 2025 and 2026', () => {
    for (const d of ALL_2025_2026) {
      for (const n of [1, 2, 3, 5, 10, 20, -1, -2, -5, -20]) {
        let expected: LocalDate | undefined;
        try {
          expected = naiveAdd(d, n);
        } catch {
          expected = undefined; // the walk left 2025–2026
        }
        if (expected === undefined) {
          const e = thrown(() => addWorkingDays(d, n));
          expect(e.details?.reason).toBe('CALENDAR_YEAR_MISSING');
        } else {
          expect(addWorkingDays(d, n), `${d} ${n}`).toBe(expected);
        }
      }
    }
  });

  it('is fast: a year of working days in microseconds', () => {
    const runs = 20_000;
    const t0 = performance.now();
    let last = '';
    for (let k = 0; k < runs; k++) last = addWorkingDays('2025-01-02', 365);
    const perCallMs = (performance.now() - t0) / runs;
    expect(last).toBe(naiveAdd('2025-01-02', 365));
    expect(perCallMs).toBeLessThan(0.05); // < 50 µs per call even on a slow CI machine
  });
});

describe('workingDaysBetween', () => {
  it('counts working days d with from < d <= to', () => {
    expect(workingDaysBetween('2026-09-30', '2026-10-08')).toBe(1);
    expect(workingDaysBetween('2026-10-08', '2026-09-30')).toBe(-1);
    expect(workingDaysBetween('2026-09-24', '2026-10-12')).toBe(7);
    expect(workingDaysBetween('2025-12-30', '2026-01-05')).toBe(3);
    expect(workingDaysBetween('2026-10-01', '2026-10-07')).toBe(0);
    expect(workingDaysBetween('2026-03-02', '2026-03-02')).toBe(0);
    expect(workingDaysBetween('2026-10-03', '2026-10-03')).toBe(0);
  });

  it('is consistent with addWorkingDays for every date of 2025 and 2026', () => {
    for (const d of ALL_2025_2026) {
      for (const n of [1, 2, 5, 15, 30]) {
        // Forward: r = d + n working days, so (d, r] holds exactly n working days, r is one of them,
        // and (d, r − 1 day] holds n − 1.
        let r: LocalDate | undefined;
        try {
          r = addWorkingDays(d, n);
        } catch (e) {
          expect((e as { details?: Record<string, unknown> }).details?.reason).toBe('CALENDAR_YEAR_MISSING');
          expect(d >= '2026-11-01', `${d} +${n} should stay within 2026`).toBe(true);
        }
        if (r !== undefined) {
          expect(isWorkingDay(r)).toBe(true);
          expect(workingDaysBetween(d, r), `${d} +${n}`).toBe(n);
          expect(workingDaysBetween(r, d)).toBe(-n);
          expect(workingDaysBetween(d, addCalendarDays(r, -1))).toBe(n - 1);
          // From a working day, going back n returns to the start.
          if (isWorkingDay(d)) expect(addWorkingDays(r, -n)).toBe(d);
        }

        // Backward: b = d − n working days, so [b, d) holds exactly n working days;
        // (b, d] = [b, d) − {b} + {d when it is a working day}.
        let b: LocalDate | undefined;
        try {
          b = addWorkingDays(d, -n);
        } catch (e) {
          expect((e as { details?: Record<string, unknown> }).details?.reason).toBe('CALENDAR_YEAR_MISSING');
          expect(d <= '2025-03-01', `${d} -${n} should stay within 2025`).toBe(true);
        }
        if (b !== undefined) {
          expect(isWorkingDay(b)).toBe(true);
          expect(b < d).toBe(true);
          expect(workingDaysBetween(b, d) + 1 - (isWorkingDay(d) ? 1 : 0), `${d} -${n}`).toBe(n);
        }
      }
    }
  });
});

describe('nextWorkingDayOnOrAfter', () => {
  it('returns the date itself on a working day, else the next working day', () => {
    expect(nextWorkingDayOnOrAfter('2026-09-30')).toBe('2026-09-30');
    expect(nextWorkingDayOnOrAfter('2026-10-01')).toBe('2026-10-08');
    expect(nextWorkingDayOnOrAfter('2026-09-19')).toBe('2026-09-20'); // Sat → Sun 调休
    expect(nextWorkingDayOnOrAfter('2026-02-15')).toBe('2026-02-24');
    expect(nextWorkingDayOnOrAfter('2026-01-01')).toBe('2026-01-04');
    expect(nextWorkingDayOnOrAfter('2025-01-01')).toBe('2025-01-02');
  });

  it('throws for a year without data, including running into one', () => {
    expectYearMissing(() => nextWorkingDayOnOrAfter('2027-01-01'), 2027);
    expect(nextWorkingDayOnOrAfter('2026-12-31')).toBe('2026-12-31'); // Thursday
  });
});

describe('years without data', () => {
  it('isWorkingDay refuses 2024-12-31 and 2027-01-04', () => {
    expectYearMissing(() => isWorkingDay('2024-12-31'), 2024);
    expectYearMissing(() => isWorkingDay('2027-01-04'), 2027);
  });

  it('addWorkingDays refuses to run into 2027 or 2024', () => {
    // Wed Dec 30 2026 → Thu Dec 31 (1) → 2027 has no data.
    expectYearMissing(() => addWorkingDays('2026-12-30', 5), 2027);
    expect(addWorkingDays('2026-12-30', 1)).toBe('2026-12-31');
    // Thu Jan 2 2025 ← Jan 1 2025 is 元旦 → 2024 has no data.
    expectYearMissing(() => addWorkingDays('2025-01-02', -1), 2024);
    expectYearMissing(() => addWorkingDays('2025-06-02', 1_000_000), 2027);
    expectYearMissing(() => addWorkingDays('2027-01-04', 0), 2027);
  });

  it('workingDaysBetween refuses either end outside the data', () => {
    expectYearMissing(() => workingDaysBetween('2024-12-31', '2025-01-02'), 2024);
    expectYearMissing(() => workingDaysBetween('2026-12-31', '2027-01-04'), 2027);
  });
});

describe('cross-check with chinese-days', () => {
  for (const [year, cal] of [
    [2025, calendar2025],
    [2026, calendar2026],
  ] as const) {
    const has = chineseDaysHasYear(year);
    const noData = `SKIPPED: chinese-days has no holiday data for ${year}`;

    it.skipIf(!has)(`${year}: holiday and make-up lists equal chinese-days' data${has ? '' : ` — ${noData}`}`, () => {
      expect([...cal.holidays].sort()).toEqual(cdDatesOf(chineseDaysData.holidays, year));
      expect([...cal.makeUpWorkdays].sort()).toEqual(cdDatesOf(chineseDaysData.workdays, year));
    });

    const skipWorkday = !has || hostWestOfUtc;
    const why = !has
      ? ` — ${noData}`
      : hostWestOfUtc
        ? ' — SKIPPED: host time zone is west of UTC, where chinese-days isWorkday is off by one day (its bug)'
        : '';
    it.skipIf(skipWorkday)(`${year}: isWorkingDay equals chinese-days isWorkday on every date${why}`, () => {
      const disagreements = datesIn(`${year}-01-01`, `${year}-12-31`).filter(
        (d) => isWorkingDay(d) !== chineseDays.isWorkday(localNoon(d)),
      );
      expect(disagreements).toEqual([]);
    });
  }
});
