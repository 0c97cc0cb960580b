import type { RecordedEvent } from '../application/eventStore.ts';
import type { OpenedApplicant, PersonalDataVault } from '../application/personalData.ts';
import type { ApplicantRecord } from '../domain/case/events.ts';
import type { ExistingCase } from '../domain/case/state.ts';
import { canReadEventLog, seesPersonalData, type Principal } from '../domain/permissions.ts';
import { caseColumns } from '../projections/cases/caseRow.ts';
import {
  applicantView, caseViewFromRow, maskAddress, maskApplicant, maskIdNumber, maskName, maskPhone,
  type ApplicantView, type CaseView,
} from '../projections/cases/queries.ts';
import type { GraphQLContext } from './context.ts';

/**
 * Personal data at the API edge. Everything behind it — events, read models, logs — holds the
 * applicant sealed (SM4). Here, and only here, it is opened: in the clear for the applicant and the
 * handling department, masked for everyone else, and shown as erased once the subject's key is gone.
 */

/** May `p` see this case's personal data in the clear? */
export const seesClear = (p: Principal, view: Pick<CaseView, 'departmentCode' | 'regionCode' | 'ownerId'>): boolean =>
  seesPersonalData(p, { departmentCode: view.departmentCode, regionCode: view.regionCode, ownerId: view.ownerId });

/** The write side's state, in the read side's shape (CommandResult.case, caseAt). */
export const caseViewFromState = (state: ExistingCase, version: number, today: string): CaseView => {
  const cols = caseColumns({ caseId: state.caseId, version, state, position: '' }, () => '');
  return caseViewFromRow({ case_id: cols.case_id, version, deadline: cols.deadline, warning_from: cols.warning_from, clock_running: cols.clock_running, state }, today);
};

// ---------------------------------------------------------------------------------------------
// Opening, batched: the applicants a response shows are opened with one key look-up

const batchers = new WeakMap<object, (record: ApplicantRecord) => Promise<OpenedApplicant | null>>();

const opener = (ctx: GraphQLContext): ((record: ApplicantRecord) => Promise<OpenedApplicant | null>) => {
  let open = batchers.get(ctx);
  if (!open) {
    const vault: PersonalDataVault = ctx.api.write.vault;
    let queue: { record: ApplicantRecord; resolve: (v: OpenedApplicant | null) => void; reject: (e: unknown) => void }[] = [];
    const flush = () => {
      const batch = queue;
      queue = [];
      vault.openMany(batch.map((q) => q.record)).then(
        (out) => batch.forEach((q, i) => q.resolve(out[i] ?? null)),
        (err) => batch.forEach((q) => q.reject(err)),
      );
    };
    open = (record) => new Promise((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ record, resolve, reject });
    });
    batchers.set(ctx, open);
  }
  return open;
};

/** `Case.applicant`: opened, then clear or masked for this caller; erased shows only that. */
export const presentApplicant = async (ctx: GraphQLContext, view: CaseView): Promise<ApplicantView> => {
  if (view.applicantErased) return applicantView(null);
  const opened = await opener(ctx)(view.applicant);
  const shown = applicantView(opened?.applicant ?? null);
  return ctx.principal && seesClear(ctx.principal, view) ? shown : maskApplicant(shown);
};

// ---------------------------------------------------------------------------------------------
// Raw events

const CLEAR = Symbol('clear');
type ApiEvent = RecordedEvent & { readonly [CLEAR]: boolean };

/**
 * A raw event for the API: `clear` says whether the reader may see its case's personal data (the
 * applicant and the handling department may; auditors read the log masked). `RecordedEvent.data`
 * opens it when the field is selected.
 */
export const eventView = (e: RecordedEvent, clear: boolean): ApiEvent => ({ ...e, [CLEAR]: clear });

const MASKED = '***';
type Applicantish = { name?: unknown; idType?: unknown; idNumber?: unknown; phone?: unknown; address?: unknown; kind?: unknown; sealed?: unknown };

const maskPlain = (a: Applicantish): Applicantish => ({
  ...a,
  ...(typeof a.name === 'string' ? { name: maskName(a.name) } : {}),
  ...(typeof a.idNumber === 'string' ? { idNumber: maskIdNumber(a.idNumber) } : {}),
  ...(typeof a.phone === 'string' ? { phone: maskPhone(a.phone) } : {}),
  ...(typeof a.address === 'string' ? { address: maskAddress(a.address) } : {}),
});

/** `RecordedEvent.data`: the sealed applicant (and personal form fields) opened, then clear or masked. */
export const presentEventData = async (ctx: GraphQLContext, e: ApiEvent | RecordedEvent): Promise<unknown> => {
  const clear = (e as ApiEvent)[CLEAR] === true;
  const data = e.data as { applicant?: Applicantish; formData?: Record<string, unknown> } | null;
  if (!data || typeof data !== 'object' || !data.applicant || typeof data.applicant !== 'object') return e.data;
  const a = data.applicant;
  if (a.sealed === undefined) return clear ? e.data : { ...data, applicant: maskPlain(a) };
  const opened = await opener(ctx)(a as ApplicantRecord);
  if (!opened) {
    // the subject's key is destroyed: the event stays (and verifies), its personal values are gone
    const { sealed: _gone, ...rest } = a;
    return { ...data, applicant: { ...rest, erased: true } };
  }
  const plain: Applicantish = { ...opened.applicant };
  const personalForm = Object.keys(opened.personalForm).length > 0
    ? clear ? opened.personalForm : Object.fromEntries(Object.keys(opened.personalForm).map((k) => [k, MASKED]))
    : undefined;
  return {
    ...data,
    applicant: clear ? plain : maskPlain(plain),
    ...(personalForm ? { formData: { ...(data.formData ?? {}), ...personalForm } } : {}),
  };
};

export const mayReadLog = canReadEventLog;
