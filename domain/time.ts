/**
 * Dates in govcase: instants are ISO-8601 strings with an offset; working days are calendar dates
 * (`YYYY-MM-DD`) in China Standard Time (UTC+8, no daylight saving), where the offices are.
 */
export type LocalDate = string;
export type Instant = string;

const CST_OFFSET_MS = 8 * 60 * 60 * 1000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The CST calendar date of an instant. */
export const localDateOf = (instant: Instant | Date): LocalDate => {
  const ms = (typeof instant === 'string' ? new Date(instant) : instant).getTime();
  if (Number.isNaN(ms)) throw new RangeError(`not an instant: ${String(instant)}`);
  return new Date(ms + CST_OFFSET_MS).toISOString().slice(0, 10);
};

/** True for a real calendar date written `YYYY-MM-DD`. */
export const isLocalDate = (value: string): boolean => {
  const m = DATE_RE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === value;
};

export const yearOf = (date: LocalDate): number => Number(date.slice(0, 4));

/** Day of week, 0 = Sunday … 6 = Saturday. */
export const dayOfWeek = (date: LocalDate): number => new Date(`${date}T00:00:00Z`).getUTCDay();

export const addCalendarDays = (date: LocalDate, days: number): LocalDate =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
