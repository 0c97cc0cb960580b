import { z } from 'zod';
import { ServiceItemRulesSchema } from '../serviceItem/serviceItem.ts';
import type { Instant } from '../time.ts';

/**
 * Commands on a case, their data validated with zod at the edge (types inferred, never written
 * twice). `now` enters through the command: `decide` has no clock.
 */
const text = (max: number) => z.string().trim().min(1).max(max);

export const ChannelSchema = z.enum(['WINDOW', 'PC', 'MOBILE', 'EXPRESS', 'OTHER']);
export const SpecialProcedureSchema = z.enum(['HEARING', 'INSPECTION', 'APPRAISAL', 'EXPERT_REVIEW', 'TENDER', 'SITE_CHECK', 'OTHER']);

export const ApplicantSchema = z.object({
  name: text(100),
  idType: text(20),
  idNumber: z.string().trim().min(4).max(40).regex(/^[0-9A-Za-z-]+$/, 'letters, digits and - only'),
  phone: z.string().trim().regex(/^\+?[0-9 -]{5,20}$/, 'a phone number').optional(),
  address: text(300).optional(),
  kind: text(20).optional(),
});

/** The sealed form (application/personalData.ts makes it); the decider copies it without looking inside. */
export const SealedApplicantSchema = z.object({
  idType: text(20),
  kind: text(20).optional(),
  sealed: z.object({
    scheme: z.literal('SM4-CTR+HMAC-SM3/v1'),
    subject: z.string().regex(/^[0-9a-f]{64}$/),
    iv: z.string().regex(/^[0-9a-f]{32}$/),
    data: z.string().max(200_000),
    mac: z.string().regex(/^[0-9a-f]{64}$/),
  }),
});

export const SubmittedMaterialSchema = z.object({
  name: text(200),
  provided: z.boolean(),
  copies: z.number().int().min(0).max(100).optional(),
});

export const CaseCommandSchemas = {
  SubmitCase: z.object({
    caseId: z.uuid(),
    caseNumber: text(40),
    item: ServiceItemRulesSchema,
    applicant: z.union([SealedApplicantSchema, ApplicantSchema]),
    materials: z.array(SubmittedMaterialSchema).max(200),
    channel: ChannelSchema,
    formData: z.record(z.string(), z.unknown()).optional(),
    ownerId: z.string().min(1).max(128).nullable(),
  }),
  RequestCorrection: z.object({ missingMaterials: z.array(text(200)).min(1).max(200), reason: text(2000) }),
  SupplyCorrection: z.object({ materials: z.array(SubmittedMaterialSchema).min(1).max(200) }),
  ExpireCorrection: z.object({}),
  AcceptCase: z.object({}),
  RejectCase: z.object({ reason: text(2000) }),
  CompleteReviewStep: z.object({ step: text(50), action: z.enum(['PASS', 'RETURN']), opinion: text(4000) }),
  SuspendCase: z.object({
    procedure: SpecialProcedureSchema,
    reason: text(2000),
    /** domain.md: a suspension needs its reason and its expected length */
    expectedWorkingDays: z.number().int().min(1).max(365),
  }),
  ResumeCase: z.object({ result: text(2000) }),
  ExtendDeadline: z.object({ workingDays: z.number().int().min(1).max(10), reason: text(2000) }),
  TransferCase: z.object({
    toDepartmentCode: z.string().trim().min(1).max(64).regex(/^[0-9A-Za-z._-]+$/),
    reason: text(2000),
  }),
  DecideCase: z.object({
    outcome: z.enum(['APPROVED', 'DENIED']),
    reason: text(2000).optional(),
    licenceNumber: text(100).optional(),
  }),
  DeliverResult: z.object({ method: z.enum(['WINDOW', 'EXPRESS', 'ELECTRONIC']), trackingNumber: text(100).optional() }),
  WithdrawCase: z.object({ reason: text(2000) }),
  EvaluateCase: z.object({ score: z.number().int().min(1).max(5), comment: text(2000).optional(), channel: ChannelSchema.optional() }),
  CompleteRectification: z.object({ reason: text(2000) }),
  RaiseDeadlineWarning: z.object({}),
  MarkDeadlineExceeded: z.object({}),
  IssueSupervisionNotice: z.object({ noticeId: z.uuid(), content: text(4000), replyWithinWorkingDays: z.number().int().min(1).max(60) }),
  AnswerSupervisionNotice: z.object({ noticeId: z.uuid(), answer: text(4000) }),
  FlagRectificationOverdue: z.object({}),
  FlagSupervisionNoticeOverdue: z.object({ noticeId: z.uuid() }),
  EraseApplicantData: z.object({ legalBasis: text(2000) }),
} as const;

export type CaseCommandType = keyof typeof CaseCommandSchemas;
export type CaseCommandData<T extends CaseCommandType> = z.infer<(typeof CaseCommandSchemas)[T]>;

export type CaseCommandMetadata = { readonly now: Instant };

export type CaseCommand = {
  [T in CaseCommandType]: { readonly type: T; readonly data: CaseCommandData<T>; readonly metadata: CaseCommandMetadata };
}[CaseCommandType];

export type CaseCommandOf<T extends CaseCommandType> = Extract<CaseCommand, { type: T }>;

export const caseCommandTypes = Object.keys(CaseCommandSchemas) as CaseCommandType[];
