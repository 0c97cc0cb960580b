import { toCaseEvent } from '../../application/caseStream.ts';
import type { RecordedEvent } from '../../application/eventStore.ts';
import { addWorkingDays } from '../../domain/calendar/index.ts';
import { warningThreshold } from '../../domain/case/deadline.ts';
import { isCaseStream, isSealedApplicant } from '../../domain/case/events.ts';
import { evolve, initialCaseState, type ExistingCase } from '../../domain/case/state.ts';
import { addCalendarDays, type LocalDate } from '../../domain/time.ts';

/**
 * The `cases` read model, pure part: the write side's own `evolve` folds the state (one definition of
 * what each event means), and the columns that queries filter on are derived from it.
 */
export interface CaseRow {
  readonly caseId: string;
  readonly version: number;
  readonly state: ExistingCase;
  readonly position: string;
}

export const evolveCaseRow = (row: CaseRow | null, event: RecordedEvent): CaseRow | null => {
  if (!isCaseStream(event.streamId)) return row;
  if (row && event.revision <= row.version) return row; // already applied
  const next = evolve(row?.state ?? initialCaseState(), toCaseEvent(event), event.metadata.occurredAt);
  if (next.status === 'NONE') return row;
  return { caseId: next.caseId, version: event.revision, state: next, position: event.position };
};

/** The first day (working or not) on which the case is in the warning zone. */
export const warningFrom = (s: ExistingCase): LocalDate | null => {
  if (!('clock' in s)) return null;
  try {
    const limit = (s.clock.caseType === 'IMMEDIATE' ? 0 : s.clock.limitDays) + s.clock.extensionDays;
    const threshold = warningThreshold(limit, s.item.warningThresholdPercent);
    if (threshold === 0) return null;
    const firstWarningWorkday = addWorkingDays(s.clock.deadline, -(threshold - 1));
    return addCalendarDays(addWorkingDays(firstWarningWorkday, -1), 1);
  } catch {
    return null; // outside the calendar's years: no early warning, the deadline itself still counts
  }
};

export interface CaseColumns {
  readonly case_id: string;
  readonly case_number: string;
  readonly version: number;
  readonly status: string;
  readonly item_code: string;
  readonly department_code: string;
  readonly region_code: string;
  readonly channel: string;
  readonly submitted_at: string;
  readonly deadline: LocalDate | null;
  readonly warning_from: LocalDate | null;
  readonly clock_running: boolean;
  readonly owner_id: string | null;
  readonly applicant_index: string | null;
  readonly erased: boolean;
  readonly state: ExistingCase;
  readonly position: string;
}

/** Sealed applicants name their subject (the blind index) themselves; a plain one (tests) is indexed here. */
const applicantIndex = (s: ExistingCase, blindIndex: (idNumber: string) => string): string | null => {
  if (s.applicantErased) return null;
  if (isSealedApplicant(s.applicant)) return s.applicant.sealed.subject;
  return s.applicant.idNumber ? blindIndex(s.applicant.idNumber) : null;
};

export const caseColumns = (row: CaseRow, blindIndex: (idNumber: string) => string): CaseColumns => {
  const s = row.state;
  return {
    case_id: row.caseId,
    case_number: s.caseNumber,
    version: row.version,
    status: s.status,
    item_code: s.item.itemCode,
    department_code: s.departmentCode,
    region_code: s.regionCode,
    channel: s.channel,
    submitted_at: s.submittedAt,
    deadline: 'clock' in s ? s.clock.deadline : null,
    warning_from: s.status === 'ACCEPTED' ? warningFrom(s) : null,
    clock_running: s.status === 'ACCEPTED',
    owner_id: s.ownerId,
    applicant_index: applicantIndex(s, blindIndex),
    erased: s.applicantErased,
    state: s,
    position: row.position,
  };
};
