import { remainingWorkingDays, type AlertLevel } from '../../domain/case/deadline.ts';
import type { Applicant, ApplicantRecord, Channel, Outcome } from '../../domain/case/events.ts';
import type { ExistingCase } from '../../domain/case/state.ts';
import { GovcaseError } from '../../domain/errors.ts';
import type { CaseType } from '../../domain/serviceItem/serviceItem.ts';
import { type Instant, type LocalDate } from '../../domain/time.ts';

/**
 * The contract's `Case` computed from a `cases` row (alert level and remaining working days depend
 * on `today`), and the masking of personal data that the API applies for callers who may not see it.
 */

// ---------------------------------------------------------------------------------------------
// The view
// ---------------------------------------------------------------------------------------------

export interface ApplicantView {
  readonly name: string | null;
  readonly idType: string | null;
  readonly idNumber: string | null;
  readonly phone: string | null;
  readonly address: string | null;
  readonly erased: boolean;
}

export interface ServiceItemRefView {
  readonly itemCode: string;
  readonly name: string;
  readonly caseType: CaseType;
  readonly promisedLimitDays: number;
}

export interface EvaluationView {
  readonly score: number;
  /** null when none was given (or the stored state predates keeping it) */
  readonly comment: string | null;
  readonly bad: boolean;
  /** null for a rating that is not bad (nothing to rectify) */
  readonly rectified: boolean | null;
  readonly evaluatedAt: Instant;
}

export type CaseViewStatus = ExistingCase['status'];

/** The contract's `Case` (without `history`, which comes from the event store), plus `ownerId` for permission checks. */
export interface CaseView {
  readonly id: string;
  readonly caseNumber: string;
  readonly status: CaseViewStatus;
  readonly version: number;
  readonly item: ServiceItemRefView;
  readonly departmentCode: string;
  readonly regionCode: string;
  /** as stored (sealed); opened and masked per reader at the API edge (graphql/views.ts) */
  readonly applicant: ApplicantRecord;
  readonly applicantErased: boolean;
  readonly channel: Channel;
  readonly submittedAt: Instant;
  readonly acceptedAt: Instant | null;
  readonly deadline: LocalDate | null;
  /** only while the clock runs (ACCEPTED); null otherwise, and null for a date the calendar has no data for */
  readonly remainingWorkingDays: number | null;
  readonly alertLevel: AlertLevel;
  readonly currentStep: string | null;
  readonly outcome: Outcome | null;
  readonly completedAt: Instant | null;
  readonly completedOnTime: boolean | null;
  readonly deliveredAt: Instant | null;
  readonly evaluation: EvaluationView | null;
  /** the applicant's platform account (null when filed at the window): for `canReadCase` / `seesPersonalData` */
  readonly ownerId: string | null;
}

/** The columns of a `cases` row the view is computed from (`CaseColumns` fits). Dates as `YYYY-MM-DD`. */
export interface CaseRecord {
  readonly case_id: string;
  readonly version: number;
  readonly deadline: LocalDate | null;
  readonly warning_from: LocalDate | null;
  readonly clock_running: boolean;
  readonly state: ExistingCase;
}

/** The alert level of a row on `today`; the SQL filter in `alertLevelSql` is the same rule. */
export const alertLevelOf = (row: Pick<CaseRecord, 'clock_running' | 'deadline' | 'warning_from'>, today: LocalDate): AlertLevel => {
  if (!row.clock_running || row.deadline === null) return 'NORMAL';
  if (row.deadline < today) return 'OVERDUE';
  if (row.warning_from !== null && row.warning_from <= today) return 'WARNING';
  return 'NORMAL';
};

const remainingDays = (today: LocalDate, deadline: LocalDate): number | null => {
  try {
    return remainingWorkingDays(today, deadline);
  } catch (err) {
    // a year without calendar data: unknown, never a guess (and never a failed list)
    if (err instanceof GovcaseError && err.details.reason === 'CALENDAR_YEAR_MISSING') return null;
    throw err;
  }
};

const orNull = (v: string | undefined | null): string | null => (v === undefined || v === null || v === '' ? null : v);

/**
 * The contract's `Applicant` from the opened personal data: null (erased, or the key destroyed) shows
 * nothing but the erasure.
 */
export const applicantView = (a: Applicant | null): ApplicantView =>
  a === null
    ? { name: null, idType: null, idNumber: null, phone: null, address: null, erased: true }
    : {
        name: orNull(a.name),
        idType: orNull(a.idType),
        idNumber: orNull(a.idNumber),
        phone: orNull(a.phone),
        address: orNull(a.address),
        erased: false,
      };

export const caseViewFromRow = (row: CaseRecord, today: LocalDate): CaseView => {
  const s = row.state;
  const clock = 'clock' in s ? s.clock : null;
  const decision = 'decision' in s ? s.decision : null;
  const stepIndex = s.status === 'ACCEPTED' || s.status === 'SUSPENDED' ? s.stepIndex : null;
  const deadline = clock?.deadline ?? row.deadline;
  const e = s.evaluation;
  return {
    id: row.case_id,
    caseNumber: s.caseNumber,
    status: s.status,
    version: row.version,
    item: { itemCode: s.item.itemCode, name: s.item.name, caseType: s.item.caseType, promisedLimitDays: s.item.promisedLimitDays },
    departmentCode: s.departmentCode,
    regionCode: s.regionCode,
    applicant: s.applicant,
    applicantErased: s.applicantErased,
    channel: s.channel,
    submittedAt: s.submittedAt,
    acceptedAt: clock?.acceptedAt ?? null,
    deadline: deadline ?? null,
    remainingWorkingDays: row.clock_running && deadline ? remainingDays(today, deadline) : null,
    alertLevel: alertLevelOf(row, today),
    currentStep: stepIndex === null ? null : (s.item.steps[stepIndex] ?? null),
    outcome: decision?.outcome ?? null,
    completedAt: decision?.decidedAt ?? null,
    completedOnTime: decision?.onTime ?? null,
    deliveredAt: s.status === 'DELIVERED' ? s.delivery.deliveredAt : null,
    evaluation: e
      ? { score: e.score, comment: e.comment ?? null, bad: e.bad, rectified: e.bad ? e.rectifiedAt !== undefined : null, evaluatedAt: e.evaluatedAt }
      : null,
    ownerId: s.ownerId,
  };
};

// ---------------------------------------------------------------------------------------------
// Masking (applied by the API for callers who may not see personal data)
// ---------------------------------------------------------------------------------------------

const stars = (n: number) => '*'.repeat(Math.max(0, n));

/** Keeps the first `head` and last `tail` characters; a value too short to keep them keeps less. */
const keepEnds = (value: string, head: number, tail: number): string => {
  const chars = Array.from(value);
  if (chars.length > head + tail) return chars.slice(0, head).join('') + stars(chars.length - head - tail) + chars.slice(chars.length - tail).join('');
  if (chars.length >= 3) return chars[0]! + stars(chars.length - 2) + chars[chars.length - 1]!;
  return stars(chars.length);
};

export const maskIdNumber = (id: string): string => keepEnds(id, 6, 4);
export const maskPhone = (phone: string): string => keepEnds(phone, 3, 4);
export const maskName = (name: string): string => {
  const chars = Array.from(name);
  return chars.length <= 1 ? stars(chars.length) : chars[0]! + stars(chars.length - 1);
};
export const maskAddress = (address: string): string => {
  const chars = Array.from(address);
  return chars.length <= 6 ? address : chars.slice(0, 6).join('') + stars(chars.length - 6);
};

/**
 * Personal data masked for anyone but the applicant and the handling department: ID `520102********1234`,
 * phone `139****2345`, name `张*`, address kept to its first 6 characters. An erased applicant shows nothing.
 */
export const maskApplicant = (a: ApplicantView): ApplicantView => {
  if (a.erased) return { name: null, idType: null, idNumber: null, phone: null, address: null, erased: true };
  return {
    name: a.name === null ? null : maskName(a.name),
    idType: a.idType,
    idNumber: a.idNumber === null ? null : maskIdNumber(a.idNumber),
    phone: a.phone === null ? null : maskPhone(a.phone),
    address: a.address === null ? null : maskAddress(a.address),
    erased: false,
  };
};
