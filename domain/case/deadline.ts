import { addWorkingDays, isWorkingDay, nextWorkingDayOnOrAfter, workingDaysBetween } from '../calendar/index.ts';
import type { CaseType } from '../serviceItem/serviceItem.ts';
import type { LocalDate } from '../time.ts';

/**
 * Time limits (行政许可法 Art. 42-45): the limit counts from the working day after acceptance; an
 * immediate case is due by the end of its acceptance day (the next working day when accepted on a
 * day off). Deadline = acceptance + limit + extensions + working days spent suspended.
 */
export const computeDeadline = (clock: {
  readonly acceptedOn: LocalDate;
  readonly caseType: CaseType;
  readonly limitDays: number;
  readonly extensionDays: number;
  readonly pausedDays: number;
}): LocalDate => {
  const start = clock.caseType === 'IMMEDIATE' ? nextWorkingDayOnOrAfter(clock.acceptedOn) : clock.acceptedOn;
  const limit = clock.caseType === 'IMMEDIATE' ? 0 : clock.limitDays;
  return addWorkingDays(start, limit + clock.extensionDays + clock.pausedDays);
};

/** Working days spent suspended: those after the suspension day up to and including the resumption day. */
export const pausedWorkingDays = (suspendedOn: LocalDate, resumedOn: LocalDate): number =>
  Math.max(0, workingDaysBetween(suspendedOn, resumedOn));

/**
 * Working days left, today included when it is a working day: 1 on the deadline day itself, 0 on a
 * day off just before it is impossible (the deadline is a working day), negative once past it.
 */
export const remainingWorkingDays = (today: LocalDate, deadline: LocalDate): number => {
  if (today > deadline) return -workingDaysBetween(deadline, today);
  return workingDaysBetween(today, deadline) + (isWorkingDay(today) ? 1 : 0);
};

/**
 * 20% of the limit by default, at least one day. An immediate case (no working days to count) has
 * no warning zone: it is due the day it is accepted, and only overdue is raised.
 */
export const warningThreshold = (totalLimitDays: number, percent: number): number =>
  totalLimitDays <= 0 ? 0 : Math.max(1, Math.ceil((totalLimitDays * percent) / 100));

export type AlertLevel = 'NORMAL' | 'WARNING' | 'OVERDUE';

export const alertLevel = (today: LocalDate, deadline: LocalDate, totalLimitDays: number, percent: number): AlertLevel => {
  if (today > deadline) return 'OVERDUE';
  const threshold = warningThreshold(totalLimitDays, percent);
  return threshold > 0 && remainingWorkingDays(today, deadline) <= threshold ? 'WARNING' : 'NORMAL';
};

/** Delivery of the result (送达), Art. 44: within 10 working days of the decision. */
export const DELIVERY_LIMIT_DAYS = 10;
/** Extension (延长), Art. 42: at most 10 working days, once. */
export const MAX_EXTENSION_DAYS = 10;
