import type { Instant, LocalDate } from '../time.ts';
import type { CaseType, ServiceItemRules } from '../serviceItem/serviceItem.ts';

/**
 * The case's events. Type strings are stored forever: never rename one; add a new type and upcast.
 * `data` carries what an auditor needs to understand the step without reading anything else.
 */
export type Channel = 'WINDOW' | 'PC' | 'MOBILE' | 'EXPRESS' | 'OTHER';
export type SpecialProcedure = 'HEARING' | 'INSPECTION' | 'APPRAISAL' | 'EXPERT_REVIEW' | 'TENDER' | 'SITE_CHECK' | 'OTHER';
export type StepAction = 'PASS' | 'RETURN';
export type Outcome = 'APPROVED' | 'DENIED';
export type DeliveryMethod = 'WINDOW' | 'EXPRESS' | 'ELECTRONIC';

export interface Applicant {
  readonly name: string;
  readonly idType: string;
  readonly idNumber: string;
  readonly phone?: string | undefined;
  readonly address?: string | undefined;
  /** natural person or legal entity (自然人 / 法人), as the platform sends it */
  readonly kind?: string | undefined;
}

/**
 * Personal data as the event store keeps it: SM4-CTR under the data subject's own key, authenticated
 * with HMAC-SM3 (encrypt-then-MAC). `subject` is the keyed blind index of the ID number, which names the
 * key; destroying the key (crypto-shredding) leaves the ciphertext, and the hashes over it, intact.
 */
export interface SealedPersonalData {
  readonly scheme: 'SM4-CTR+HMAC-SM3/v1';
  readonly subject: string;
  readonly iv: string;
  readonly data: string;
  readonly mac: string;
}

/** The applicant with the personal fields sealed; what is not personal stays readable. */
export interface SealedApplicant {
  readonly idType: string;
  readonly kind?: string | undefined;
  readonly sealed: SealedPersonalData;
}

/** Stored events always carry the sealed form; the plain one exists only before sealing (and in pure tests). */
export type ApplicantRecord = Applicant | SealedApplicant;

export const isSealedApplicant = (a: ApplicantRecord): a is SealedApplicant => 'sealed' in a && a.sealed !== undefined;

export interface SubmittedMaterial {
  readonly name: string;
  readonly provided: boolean;
  readonly copies?: number | undefined;
}

type E<T extends string, D> = { readonly type: T; readonly data: D };

export type CaseSubmitted = E<'CaseSubmitted', {
  readonly caseId: string;
  readonly caseNumber: string;
  readonly item: ServiceItemRules;
  readonly departmentCode: string;
  readonly regionCode: string;
  readonly applicant: ApplicantRecord;
  readonly materials: readonly SubmittedMaterial[];
  readonly channel: Channel;
  readonly formData?: Readonly<Record<string, unknown>> | undefined;
  /** the applicant's platform account when they filed it themselves; null when a clerk filed it at the window */
  readonly ownerId: string | null;
  readonly submittedAt: Instant;
}>;
export type CorrectionRequested = E<'CorrectionRequested', {
  readonly missingMaterials: readonly string[];
  readonly reason: string;
  readonly deadline: LocalDate;
}>;
export type CorrectionSupplied = E<'CorrectionSupplied', {
  readonly materials: readonly SubmittedMaterial[];
  readonly stillMissing: readonly string[];
}>;
export type CorrectionExpired = E<'CorrectionExpired', { readonly deadline: LocalDate }>;
export type CaseAccepted = E<'CaseAccepted', {
  readonly acceptedOn: LocalDate;
  readonly caseType: CaseType;
  readonly limitDays: number;
  readonly deadline: LocalDate;
}>;
export type CaseRejected = E<'CaseRejected', { readonly reason: string }>;
export type ReviewStepCompleted = E<'ReviewStepCompleted', {
  readonly step: string;
  readonly stepIndex: number;
  readonly action: StepAction;
  readonly opinion: string;
  /** the step that is current afterwards; null once every step has passed */
  readonly nextStep: string | null;
}>;
export type CaseSuspended = E<'CaseSuspended', {
  readonly procedure: SpecialProcedure;
  readonly reason: string;
  readonly expectedWorkingDays?: number | undefined;
  readonly suspendedOn: LocalDate;
}>;
export type CaseResumed = E<'CaseResumed', {
  readonly result: string;
  readonly suspendedOn: LocalDate;
  readonly resumedOn: LocalDate;
  readonly pausedWorkingDays: number;
  readonly deadline: LocalDate;
}>;
export type DeadlineExtended = E<'DeadlineExtended', {
  readonly workingDays: number;
  readonly reason: string;
  readonly deadline: LocalDate;
}>;
export type CaseTransferred = E<'CaseTransferred', {
  readonly fromDepartmentCode: string;
  readonly toDepartmentCode: string;
  readonly reason: string;
}>;
export type CaseDecided = E<'CaseDecided', {
  readonly outcome: Outcome;
  readonly reason?: string | undefined;
  readonly licenceNumber?: string | undefined;
  readonly decidedOn: LocalDate;
  readonly deadline: LocalDate;
  readonly onTime: boolean;
  /** working days from acceptance to decision, paused days excluded */
  readonly workingDaysUsed: number;
}>;
export type ResultDelivered = E<'ResultDelivered', {
  readonly method: DeliveryMethod;
  readonly trackingNumber?: string | undefined;
  readonly licenceNumber?: string | undefined;
  readonly deliveredOn: LocalDate;
  readonly deliveryDeadline: LocalDate;
  readonly onTime: boolean;
}>;
export type CaseWithdrawn = E<'CaseWithdrawn', { readonly reason: string; readonly fromStatus: string }>;
export type CaseEvaluated = E<'CaseEvaluated', {
  readonly score: number;
  readonly comment?: string | undefined;
  readonly channel?: Channel | undefined;
  readonly bad: boolean;
  readonly rectificationDeadline?: LocalDate | undefined;
}>;
export type RectificationCompleted = E<'RectificationCompleted', {
  readonly reason: string;
  readonly rectificationDeadline: LocalDate;
  readonly onTime: boolean;
}>;
export type DeadlineWarningRaised = E<'DeadlineWarningRaised', {
  readonly deadline: LocalDate;
  readonly remainingWorkingDays: number;
}>;
export type DeadlineExceeded = E<'DeadlineExceeded', {
  readonly deadline: LocalDate;
  readonly workingDaysOverdue: number;
}>;
export type SupervisionNoticeIssued = E<'SupervisionNoticeIssued', {
  readonly noticeId: string;
  readonly content: string;
  readonly replyBy: LocalDate;
}>;
export type SupervisionNoticeAnswered = E<'SupervisionNoticeAnswered', {
  readonly noticeId: string;
  readonly answer: string;
  readonly onTime: boolean;
}>;
/** 电子监察: a bad rating not rectified within its limit (raised once, by the deadline clock). */
export type RectificationOverdue = E<'RectificationOverdue', { readonly rectificationDeadline: LocalDate }>;
/** 电子监察: a 督办 notice not answered by its reply date (raised once per notice). */
export type SupervisionNoticeOverdue = E<'SupervisionNoticeOverdue', { readonly noticeId: string; readonly replyBy: LocalDate }>;
export type ApplicantDataErased = E<'ApplicantDataErased', { readonly legalBasis: string }>;

export type CaseEvent =
  | CaseSubmitted
  | CorrectionRequested
  | CorrectionSupplied
  | CorrectionExpired
  | CaseAccepted
  | CaseRejected
  | ReviewStepCompleted
  | CaseSuspended
  | CaseResumed
  | DeadlineExtended
  | CaseTransferred
  | CaseDecided
  | ResultDelivered
  | CaseWithdrawn
  | CaseEvaluated
  | RectificationCompleted
  | DeadlineWarningRaised
  | DeadlineExceeded
  | SupervisionNoticeIssued
  | SupervisionNoticeAnswered
  | RectificationOverdue
  | SupervisionNoticeOverdue
  | ApplicantDataErased;

export type CaseEventType = CaseEvent['type'];

export const caseEventTypes: readonly CaseEventType[] = [
  'CaseSubmitted', 'CorrectionRequested', 'CorrectionSupplied', 'CorrectionExpired', 'CaseAccepted',
  'CaseRejected', 'ReviewStepCompleted', 'CaseSuspended', 'CaseResumed', 'DeadlineExtended',
  'CaseTransferred', 'CaseDecided', 'ResultDelivered', 'CaseWithdrawn', 'CaseEvaluated',
  'RectificationCompleted', 'DeadlineWarningRaised', 'DeadlineExceeded', 'SupervisionNoticeIssued',
  'SupervisionNoticeAnswered', 'RectificationOverdue', 'SupervisionNoticeOverdue', 'ApplicantDataErased',
];

export const caseStreamId = (caseId: string) => `case-${caseId}`;
export const isCaseStream = (streamId: string) => streamId.startsWith('case-');
