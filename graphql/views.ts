import type { RecordedEvent } from '../application/eventStore.ts';
import type { ExistingCase } from '../domain/case/state.ts';
import { canReadEventLog, seesPersonalData, type Principal } from '../domain/permissions.ts';
import { caseColumns } from '../projections/cases/caseRow.ts';
import { caseViewFromRow, maskApplicant, maskIdNumber, maskName, maskPhone, maskAddress, type CaseView } from '../projections/cases/queries.ts';

/** A case as the caller may see it: personal data in the clear only for the applicant and the handling department. */
export const seesClear = (p: Principal, view: CaseView): boolean =>
  seesPersonalData(p, { departmentCode: view.departmentCode, regionCode: view.regionCode, ownerId: view.ownerId });

export const visibleCase = (p: Principal, view: CaseView): CaseView =>
  seesClear(p, view) ? view : { ...view, applicant: maskApplicant(view.applicant) };

/** The write side's state, in the read side's shape (CommandResult.case, caseAt). */
export const caseViewFromState = (state: ExistingCase, version: number, today: string): CaseView => {
  const cols = caseColumns({ caseId: state.caseId, version, state, position: '' }, () => '');
  return caseViewFromRow({ case_id: cols.case_id, version, deadline: cols.deadline, warning_from: cols.warning_from, clock_running: cols.clock_running, state }, today);
};

type Applicantish = { name?: unknown; idNumber?: unknown; phone?: unknown; address?: unknown };

const maskApplicantData = (a: Applicantish): Applicantish => ({
  ...a,
  ...(typeof a.name === 'string' ? { name: maskName(a.name) } : {}),
  ...(typeof a.idNumber === 'string' ? { idNumber: maskIdNumber(a.idNumber) } : {}),
  ...(typeof a.phone === 'string' ? { phone: maskPhone(a.phone) } : {}),
  ...(typeof a.address === 'string' ? { address: maskAddress(a.address) } : {}),
});

/**
 * A raw event for the API. Auditors read streams with personal data masked; the applicant and the
 * handling department see their case's history in the clear.
 */
export const eventView = (e: RecordedEvent, clear: boolean) => {
  const data = e.data as { applicant?: Applicantish } | null;
  const masked = !clear && data && typeof data === 'object' && data.applicant && typeof data.applicant === 'object'
    ? { ...data, applicant: maskApplicantData(data.applicant) }
    : e.data;
  return { ...e, data: masked };
};

export const mayReadLog = canReadEventLog;
