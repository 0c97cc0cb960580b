import type { Instant, LocalDate } from '../time.ts';
import type { CaseType, ServiceItemRules } from '../serviceItem/serviceItem.ts';
import type {
  Applicant, ApplicantRecord, CaseEvent, Channel, DeliveryMethod, Outcome, SpecialProcedure, SubmittedMaterial,
} from './events.ts';

/**
 * The write-side state of a case: a union tagged by `status`, so a state that cannot exist
 * (a decision without acceptance, a suspended case without a procedure) cannot be written.
 */
export interface SupervisionNoticeState {
  readonly noticeId: string;
  /** optional: states folded before it was kept (stored read-model rows) lack it */
  readonly content?: string | undefined;
  readonly issuedAt: Instant;
  readonly replyBy: LocalDate;
  readonly answer?: string | undefined;
  readonly answeredAt?: Instant | undefined;
  readonly overdueFlagged?: boolean | undefined;
}

export interface EvaluationState {
  readonly score: number;
  /** optional: states folded before it was kept (stored read-model rows) lack it */
  readonly comment?: string | undefined;
  readonly bad: boolean;
  readonly evaluatedAt: Instant;
  readonly rectificationDeadline?: LocalDate | undefined;
  readonly rectifiedAt?: Instant | undefined;
  readonly overdueFlagged?: boolean | undefined;
}

export interface CaseBase {
  readonly caseId: string;
  readonly caseNumber: string;
  readonly item: ServiceItemRules;
  readonly departmentCode: string;
  readonly regionCode: string;
  readonly applicant: ApplicantRecord;
  readonly applicantErased: boolean;
  readonly ownerId: string | null;
  readonly channel: Channel;
  readonly materials: readonly SubmittedMaterial[];
  readonly submittedAt: Instant;
  /** 一次性告知: the missing materials are listed once, all together */
  readonly correctionRequested: boolean;
  readonly notices: readonly SupervisionNoticeState[];
  readonly evaluation?: EvaluationState | undefined;
}

/** The processing clock, fixed at acceptance and moved only by suspensions and an extension. */
export interface CaseClock {
  readonly acceptedAt: Instant;
  readonly acceptedOn: LocalDate;
  readonly caseType: CaseType;
  readonly limitDays: number;
  readonly extensionDays: number;
  readonly pausedDays: number;
  readonly deadline: LocalDate;
  readonly warningRaised: boolean;
  readonly exceededRaised: boolean;
}

export interface Decision {
  readonly outcome: Outcome;
  readonly decidedAt: Instant;
  readonly decidedOn: LocalDate;
  readonly onTime: boolean;
  readonly licenceNumber?: string | undefined;
}

export type CaseState =
  | { readonly status: 'NONE' }
  | (CaseBase & { readonly status: 'SUBMITTED' })
  | (CaseBase & {
      readonly status: 'CORRECTION_REQUESTED';
      readonly correction: { readonly requestedAt: Instant; readonly missing: readonly string[]; readonly deadline: LocalDate };
    })
  | (CaseBase & { readonly status: 'ACCEPTED'; readonly clock: CaseClock; readonly stepIndex: number })
  | (CaseBase & {
      readonly status: 'SUSPENDED';
      readonly clock: CaseClock;
      readonly stepIndex: number;
      readonly suspension: { readonly procedure: SpecialProcedure; readonly suspendedOn: LocalDate; readonly suspendedAt: Instant };
    })
  | (CaseBase & { readonly status: 'COMPLETED'; readonly clock: CaseClock; readonly decision: Decision })
  | (CaseBase & {
      readonly status: 'DELIVERED';
      readonly clock: CaseClock;
      readonly decision: Decision;
      readonly delivery: { readonly method: DeliveryMethod; readonly deliveredAt: Instant; readonly onTime: boolean };
    })
  | (CaseBase & { readonly status: 'REJECTED'; readonly rejectedAt: Instant; readonly reason: string })
  | (CaseBase & { readonly status: 'WITHDRAWN'; readonly withdrawnAt: Instant; readonly fromStatus: string })
  | (CaseBase & { readonly status: 'CORRECTION_EXPIRED'; readonly expiredAt: Instant });

export type CaseStatus = CaseState['status'];
export type ExistingCase = Exclude<CaseState, { status: 'NONE' }>;
export type CaseIn<S extends CaseStatus> = Extract<CaseState, { status: S }>;

export const initialCaseState = (): CaseState => ({ status: 'NONE' });

export const terminalStatuses: readonly CaseStatus[] = ['REJECTED', 'WITHDRAWN', 'CORRECTION_EXPIRED', 'DELIVERED'];
export const isTerminal = (state: CaseState) => terminalStatuses.includes(state.status);

/**
 * Applies one event. Pure and total: it never throws, so a stored stream always folds (an event
 * that does not fit the state leaves it unchanged; the decider never produces one).
 * `occurredAt` is the event's metadata time, which the data of some events leaves out.
 */
export const evolve = (state: CaseState, event: CaseEvent, occurredAt: Instant): CaseState => {
  if (event.type === 'CaseSubmitted') {
    if (state.status !== 'NONE') return state;
    const d = event.data;
    return {
      status: 'SUBMITTED', caseId: d.caseId, caseNumber: d.caseNumber, item: d.item,
      departmentCode: d.departmentCode, regionCode: d.regionCode, applicant: d.applicant,
      applicantErased: false, ownerId: d.ownerId, channel: d.channel, materials: d.materials,
      submittedAt: d.submittedAt, correctionRequested: false, notices: [],
    };
  }
  if (state.status === 'NONE') return state;
  switch (event.type) {
    case 'CorrectionRequested':
      if (state.status !== 'SUBMITTED') return state;
      return {
        ...state, status: 'CORRECTION_REQUESTED', correctionRequested: true,
        correction: { requestedAt: occurredAt, missing: event.data.missingMaterials, deadline: event.data.deadline },
      };
    case 'CorrectionSupplied': {
      if (state.status !== 'CORRECTION_REQUESTED') return state;
      const { correction: _c, ...rest } = state;
      return { ...rest, status: 'SUBMITTED', materials: mergeMaterials(state.materials, event.data.materials) };
    }
    case 'CorrectionExpired':
      return state.status === 'CORRECTION_REQUESTED' ? { ...withoutCorrection(state), status: 'CORRECTION_EXPIRED', expiredAt: occurredAt } : state;
    case 'CaseAccepted':
      if (state.status !== 'SUBMITTED') return state;
      return {
        ...state, status: 'ACCEPTED', stepIndex: 0,
        clock: {
          acceptedAt: occurredAt, acceptedOn: event.data.acceptedOn, caseType: event.data.caseType,
          limitDays: event.data.limitDays, extensionDays: 0, pausedDays: 0, deadline: event.data.deadline,
          warningRaised: false, exceededRaised: false,
        },
      };
    case 'CaseRejected':
      return state.status === 'SUBMITTED' ? { ...state, status: 'REJECTED', rejectedAt: occurredAt, reason: event.data.reason } : state;
    case 'ReviewStepCompleted':
      if (state.status !== 'ACCEPTED') return state;
      return { ...state, stepIndex: event.data.action === 'PASS' ? event.data.stepIndex + 1 : Math.max(0, event.data.stepIndex - 1) };
    case 'CaseSuspended':
      if (state.status !== 'ACCEPTED') return state;
      return {
        ...state, status: 'SUSPENDED',
        suspension: { procedure: event.data.procedure, suspendedOn: event.data.suspendedOn, suspendedAt: occurredAt },
      };
    case 'CaseResumed': {
      if (state.status !== 'SUSPENDED') return state;
      const { suspension: _s, ...rest } = state;
      return {
        ...rest, status: 'ACCEPTED',
        clock: { ...state.clock, pausedDays: state.clock.pausedDays + event.data.pausedWorkingDays, deadline: event.data.deadline },
      };
    }
    case 'DeadlineExtended':
      if (state.status !== 'ACCEPTED' && state.status !== 'SUSPENDED') return state;
      return {
        ...state,
        clock: {
          ...state.clock, extensionDays: state.clock.extensionDays + event.data.workingDays, deadline: event.data.deadline,
          // a new deadline may take the case out of the warning zone; the cards already raised stay in the log
        },
      };
    case 'CaseTransferred':
      return { ...state, departmentCode: event.data.toDepartmentCode };
    case 'CaseDecided': {
      if (state.status !== 'ACCEPTED') return state;
      const { stepIndex: _i, ...rest } = state;
      return {
        ...rest, status: 'COMPLETED',
        decision: {
          outcome: event.data.outcome, decidedAt: occurredAt, decidedOn: event.data.decidedOn,
          onTime: event.data.onTime, licenceNumber: event.data.licenceNumber,
        },
      };
    }
    case 'ResultDelivered':
      if (state.status !== 'COMPLETED') return state;
      return { ...state, status: 'DELIVERED', delivery: { method: event.data.method, deliveredAt: occurredAt, onTime: event.data.onTime } };
    case 'CaseWithdrawn': {
      if (!['SUBMITTED', 'CORRECTION_REQUESTED', 'ACCEPTED', 'SUSPENDED'].includes(state.status)) return state;
      const base = baseOf(state);
      return { ...base, status: 'WITHDRAWN', withdrawnAt: occurredAt, fromStatus: event.data.fromStatus };
    }
    case 'CaseEvaluated':
      return {
        ...state,
        evaluation: {
          score: event.data.score, comment: event.data.comment, bad: event.data.bad, evaluatedAt: occurredAt,
          rectificationDeadline: event.data.rectificationDeadline,
        },
      };
    case 'RectificationCompleted':
      return state.evaluation ? { ...state, evaluation: { ...state.evaluation, rectifiedAt: occurredAt } } : state;
    case 'DeadlineWarningRaised':
      return 'clock' in state ? { ...state, clock: { ...state.clock, warningRaised: true } } as CaseState : state;
    case 'DeadlineExceeded':
      return 'clock' in state ? { ...state, clock: { ...state.clock, exceededRaised: true } } as CaseState : state;
    case 'SupervisionNoticeIssued':
      return {
        ...state,
        notices: [...state.notices, { noticeId: event.data.noticeId, content: event.data.content, issuedAt: occurredAt, replyBy: event.data.replyBy }],
      };
    case 'SupervisionNoticeAnswered':
      return {
        ...state,
        notices: state.notices.map((n) => (n.noticeId === event.data.noticeId ? { ...n, answer: event.data.answer, answeredAt: occurredAt } : n)),
      };
    case 'RectificationOverdue':
      return state.evaluation ? { ...state, evaluation: { ...state.evaluation, overdueFlagged: true } } : state;
    case 'SupervisionNoticeOverdue':
      return {
        ...state,
        notices: state.notices.map((n) => (n.noticeId === event.data.noticeId ? { ...n, overdueFlagged: true } : n)),
      };
    case 'ApplicantDataErased':
      return { ...state, applicantErased: true, applicant: erasedApplicant(state.applicant) };
    default: {
      const never: never = event;
      return never;
    }
  }
};

/** After erasure nothing personal is left in the state (only the ID type, which is not personal). */
/** After erasure the state keeps no personal value, sealed or plain: only the kind of ID. */
export const erasedApplicant = (a: ApplicantRecord): Applicant => ({ name: '', idType: a.idType, idNumber: '' });

const withoutCorrection = <T extends { correction: unknown }>(s: T): Omit<T, 'correction'> => {
  const { correction: _c, ...rest } = s;
  return rest;
};

/** The fields every existing case has, whatever its status. */
export const baseOf = (state: ExistingCase): CaseBase => ({
  caseId: state.caseId, caseNumber: state.caseNumber, item: state.item, departmentCode: state.departmentCode,
  regionCode: state.regionCode, applicant: state.applicant, applicantErased: state.applicantErased,
  ownerId: state.ownerId, channel: state.channel, materials: state.materials, submittedAt: state.submittedAt,
  correctionRequested: state.correctionRequested, notices: state.notices, evaluation: state.evaluation,
});

const mergeMaterials = (had: readonly SubmittedMaterial[], supplied: readonly SubmittedMaterial[]): SubmittedMaterial[] => {
  const byName = new Map(had.map((m) => [m.name, m] as const));
  for (const m of supplied) byName.set(m.name, m);
  return [...byName.values()];
};

export const missingMaterials = (item: ServiceItemRules, materials: readonly SubmittedMaterial[]): string[] => {
  const provided = new Set(materials.filter((m) => m.provided).map((m) => m.name));
  return item.materials.filter((m) => m.required && !provided.has(m.name)).map((m) => m.name);
};
