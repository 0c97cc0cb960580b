import type { Applicant, CaseEvent, Channel } from '../case/events.ts';
import { evolve, initialCaseState, type CaseState } from '../case/state.ts';
import type { ServiceItemRules } from '../serviceItem/serviceItem.ts';
import {
  caseTypeCode, channelCode, expressFlag, gbDateTime, gbEndOfDay, RESULT_TYPE, satisfactionA8, serviceObjectCode,
  SPECIAL_EXTENSION, specialProcedureCode, specialProcedureName, SUPERVISION_TYPE,
} from './codes.ts';

/**
 * A case's events → the GB/T 39046-2020 data sets. Pure: the caller passes the case's history (in
 * revision order, at least up to the event mapped) and the applicant already opened from the vault —
 * `null` when the subject was erased, in which case the records carry no personal data and say so.
 * Each event maps to zero or more records; a record has a `key` unique within its case and data set,
 * so a later event that changes the same record (acceptance after application, delivery after the
 * decision, resumption after a suspension, an answer to a 督办 notice) carries the same key.
 * Date-times are `YYYYMMDDThhmmss` in China Standard Time.
 */
export type DataSet = 'APPLICATION' | 'ACCEPTANCE' | 'PROCESS' | 'SPECIAL_PROCEDURE' | 'RESULT' | 'EVALUATION' | 'SUPERVISION';

export const dataSetNames: Readonly<Record<DataSet, string>> = {
  APPLICATION: '办事申请', ACCEPTANCE: '事项受理', PROCESS: '事项办理', SPECIAL_PROCEDURE: '事项办理-特别程序',
  RESULT: '事项办结', EVALUATION: '服务评价', SUPERVISION: '电子监察',
};

export interface HistoryEvent {
  readonly revision: number;
  readonly event: CaseEvent;
  readonly occurredAt: string;
  readonly actorId: string;
}

/** What every target needs to know about the case besides the record (from the folded state). */
export interface CaseContext {
  readonly caseId: string;
  readonly caseNumber: string;
  readonly item: ServiceItemRules;
  readonly departmentCode: string;
  readonly regionCode: string;
  readonly channel: Channel;
  readonly applicantKind: string | undefined;
  readonly idType: string;
  /** the opened applicant, or null when the data subject was erased */
  readonly applicant: Applicant | null;
  readonly personalDataErased: boolean;
  readonly acceptedAt: string | null;
  readonly limitDays: number | null;
  readonly caseType: 'IMMEDIATE' | 'PROMISED';
}

interface RecordBase<D extends DataSet> {
  readonly dataSet: D;
  readonly key: string;
  readonly caseId: string;
  readonly revision: number;
  /** 办件编号 */
  readonly caseNumber: string;
  /** 行政区划 */
  readonly regionCode: string;
}

export interface MaterialRecord {
  readonly name: string;
  /** 是否收取 1/0 */
  readonly received: '1' | '0';
  /** 收取方式 (A.5) */
  readonly how: string;
  readonly count: number;
  readonly receivedAt: string | null;
}

export interface ApplicationRecord extends RecordBase<'APPLICATION'> {
  readonly implementationCode: string;
  readonly itemName: string;
  readonly caseTypeCode: '1' | '2';
  readonly applicantName: string | null;
  readonly serviceObjectCode: string;
  readonly idTypeCode: string;
  readonly idNumber: string | null;
  readonly contactName: string | null;
  readonly mobile: string | null;
  readonly address: string | null;
  readonly legalRepresentative: string | null;
  readonly channelCode: string;
  readonly appliedAt: string;
  readonly materials: readonly MaterialRecord[];
  readonly personalDataErased: boolean;
}

export interface AcceptanceRecord extends RecordBase<'ACCEPTANCE'> {
  readonly basicCode: string | null;
  readonly implementationCode: string;
  readonly itemName: string;
  readonly departmentName: string;
  readonly departmentCreditCode: string | null;
  readonly acceptedBy: string;
  readonly acceptedAt: string;
  readonly acceptanceDocumentNo: string;
  readonly promisedAt: string;
  readonly caseTypeCode: '1' | '2';
  readonly limitDays: number;
}

export interface ProcessRecord extends RecordBase<'PROCESS'> {
  /** 业务动作: 通过 / 退回 / 其他 */
  readonly action: '通过' | '退回' | '其他';
  readonly stepName: string;
  readonly handler: string;
  readonly opinion: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly unit: string;
  /** 环节办理状态: 1 待办 2 已办 */
  readonly stepStatus: '1' | '2';
}

export interface SpecialProcedureRecord extends RecordBase<'SPECIAL_PROCEDURE'> {
  readonly typeCode: string;
  readonly typeName: string;
  readonly startedAt: string;
  readonly reason: string;
  readonly requestedBy: string;
  readonly endedAt: string | null;
  readonly result: string | null;
  readonly opinion: string | null;
  readonly unit: string;
  readonly handler: string;
}

export interface ResultRecord extends RecordBase<'RESULT'> {
  readonly handler: string;
  readonly completedAt: string;
  readonly resultTypeCode: string;
  readonly description: string;
  readonly certificateName: string | null;
  readonly certificateNumber: string | null;
  readonly certificateValidUntil: string | null;
  readonly issuer: string;
  readonly delivered: boolean;
  readonly deliveredAt: string | null;
  /** 是否快递 1/0 */
  readonly express: '1' | '0';
  /** 是否收费 1/0: govcase items charge nothing */
  readonly charged: '0';
}

export interface EvaluationRecord extends RecordBase<'EVALUATION'> {
  readonly channelCode: string;
  readonly evaluator: string | null;
  readonly evaluatedAt: string;
  readonly count: number;
  readonly score: number;
  readonly satisfactionCode: string;
  readonly satisfactionName: string;
  readonly comment: string | null;
  readonly personalDataErased: boolean;
}

export interface SupervisionRecord extends RecordBase<'SUPERVISION'> {
  readonly content: string;
  readonly organisation: string;
  /** A.1 事项类型 */
  readonly itemTypeCode: string;
  readonly issuedAt: string;
  readonly supervisionNo: string;
  readonly ruleNo: string;
  readonly warningTypeCode: string;
  readonly statusAt: string;
  readonly resultDescription: string | null;
  readonly responsibleDepartment: string;
}

export type ExchangeRecord =
  | ApplicationRecord | AcceptanceRecord | ProcessRecord | SpecialProcedureRecord | ResultRecord | EvaluationRecord | SupervisionRecord;

/** The data sets an event type yields (decidable from the type alone: the outbox uses it). */
export const dataSetsOf = (type: CaseEvent['type']): readonly DataSet[] => {
  switch (type) {
    case 'CaseSubmitted': return ['APPLICATION'];
    case 'CaseAccepted': return ['ACCEPTANCE'];
    case 'ReviewStepCompleted':
    case 'CorrectionRequested':
    case 'CorrectionSupplied':
    case 'CaseTransferred':
      return ['PROCESS'];
    case 'CaseSuspended':
    case 'CaseResumed':
    case 'DeadlineExtended':
      return ['SPECIAL_PROCEDURE'];
    case 'CaseDecided':
    case 'ResultDelivered':
    case 'CaseRejected':
    case 'CaseWithdrawn':
    case 'CorrectionExpired':
      return ['RESULT'];
    case 'CaseEvaluated': return ['EVALUATION'];
    case 'DeadlineWarningRaised':
    case 'DeadlineExceeded':
    case 'SupervisionNoticeIssued':
    case 'SupervisionNoticeAnswered':
    case 'SupervisionNoticeOverdue':
    case 'RectificationOverdue':
    case 'RectificationCompleted':
      return ['SUPERVISION'];
    case 'ApplicantDataErased':
      return [];
    default: {
      const never: never = type;
      return never;
    }
  }
};

/** Folds the history up to (and including) `revision`; the state before and after that event. */
const foldTo = (history: readonly HistoryEvent[], revision: number) => {
  let state: CaseState = initialCaseState();
  let before: CaseState = state;
  let at: HistoryEvent | undefined;
  let previousStepEnd: string | null = null;
  let evaluations = 0;
  for (const h of history) {
    if (h.revision > revision) break;
    before = state;
    state = evolve(state, h.event, h.occurredAt);
    if (h.revision === revision) {
      at = h;
      break;
    }
    if (h.event.type === 'CaseAccepted' || h.event.type === 'ReviewStepCompleted' || h.event.type === 'CaseResumed'
      || h.event.type === 'CorrectionRequested' || h.event.type === 'CorrectionSupplied' || h.event.type === 'CaseTransferred')
      previousStepEnd = h.occurredAt;
    if (h.event.type === 'CaseEvaluated') evaluations++;
  }
  return { before, state, at, previousStepEnd, evaluations };
};

export const caseContext = (state: CaseState, applicant: Applicant | null): CaseContext | null => {
  if (state.status === 'NONE') return null;
  const clock = 'clock' in state ? state.clock : null;
  return {
    caseId: state.caseId, caseNumber: state.caseNumber, item: state.item, departmentCode: state.departmentCode,
    regionCode: state.regionCode, channel: state.channel, applicantKind: state.applicant.kind, idType: state.applicant.idType,
    applicant, personalDataErased: applicant === null, acceptedAt: clock?.acceptedAt ?? null, limitDays: clock?.limitDays ?? null,
    caseType: clock?.caseType ?? state.item.caseType,
  };
};

/**
 * The records the event at `revision` yields, and the case context at that point (for the per-target
 * mappers). Empty when the revision is not in the history or yields no data set.
 */
export const mapCaseEvent = (
  history: readonly HistoryEvent[],
  revision: number,
  applicant: Applicant | null,
): { readonly context: CaseContext | null; readonly records: ExchangeRecord[] } => {
  const { before, state, at, previousStepEnd, evaluations } = foldTo(history, revision);
  const context = caseContext(state, applicant);
  if (!at || !context || state.status === 'NONE') return { context, records: [] };
  const e = at.event;
  const when = gbDateTime(at.occurredAt);
  const base = { caseId: context.caseId, revision, caseNumber: context.caseNumber, regionCode: context.regionCode };
  const item = context.item;
  const unit = state.departmentCode === item.departmentCode ? item.departmentName : state.departmentCode;
  const implementationCode = item.implementationCode ?? item.itemCode;
  const step = (stepName: string, action: ProcessRecord['action'], opinion: string): ProcessRecord => ({
    ...base, dataSet: 'PROCESS', key: `step:${revision}`, action, stepName, handler: at.actorId, opinion,
    startedAt: gbDateTime(previousStepEnd ?? ('submittedAt' in state ? state.submittedAt : at.occurredAt)), endedAt: when,
    unit, stepStatus: '2',
  });
  const result = (type: { code: string; name: string }, description: string, certificateNumber?: string): ResultRecord => ({
    ...base, dataSet: 'RESULT', key: 'result', handler: at.actorId, completedAt: when, resultTypeCode: type.code,
    description, certificateName: certificateNumber ? item.name : null, certificateNumber: certificateNumber ?? null,
    certificateValidUntil: null, issuer: item.departmentName, delivered: false, deliveredAt: null, express: '0', charged: '0',
  });
  const supervision = (
    key: string, type: { code: string; rule: string; name: string }, content: string, issuedAt: string, resultDescription: string | null,
  ): SupervisionRecord => ({
    ...base, dataSet: 'SUPERVISION', key, content, organisation: item.departmentName, itemTypeCode: item.itemType,
    issuedAt, supervisionNo: `${context.caseNumber}-${key}`, ruleNo: type.rule, warningTypeCode: type.code, statusAt: when,
    resultDescription, responsibleDepartment: unit,
  });

  switch (e.type) {
    case 'CaseSubmitted': {
      const a = applicant;
      return {
        context,
        records: [{
          ...base, dataSet: 'APPLICATION', key: 'application', implementationCode, itemName: item.name,
          caseTypeCode: caseTypeCode(item.caseType), applicantName: a?.name ?? null,
          serviceObjectCode: serviceObjectCode(context.applicantKind), idTypeCode: context.idType, idNumber: a?.idNumber ?? null,
          contactName: a?.name ?? null, mobile: a?.phone ?? null, address: a?.address ?? null, legalRepresentative: null,
          channelCode: channelCode[e.data.channel], appliedAt: gbDateTime(e.data.submittedAt),
          materials: e.data.materials.map((m) => ({
            name: m.name, received: m.provided ? '1' : '0', how: channelCode[e.data.channel], count: m.copies ?? (m.provided ? 1 : 0),
            receivedAt: m.provided ? gbDateTime(e.data.submittedAt) : null,
          })),
          personalDataErased: a === null,
        }],
      };
    }
    case 'CaseAccepted':
      return {
        context,
        records: [{
          ...base, dataSet: 'ACCEPTANCE', key: 'acceptance', basicCode: item.basicCode ?? null, implementationCode, itemName: item.name,
          departmentName: item.departmentName, departmentCreditCode: item.departmentCreditCode ?? null, acceptedBy: at.actorId,
          acceptedAt: when, acceptanceDocumentNo: `${context.caseNumber}-SL`, promisedAt: gbEndOfDay(e.data.deadline),
          caseTypeCode: caseTypeCode(e.data.caseType), limitDays: e.data.limitDays,
        }],
      };
    case 'ReviewStepCompleted':
      return { context, records: [step(e.data.step, e.data.action === 'PASS' ? '通过' : '退回', e.data.opinion)] };
    case 'CorrectionRequested':
      return { context, records: [step('补正告知', '其他', `${e.data.reason}；需补正：${e.data.missingMaterials.join('、')}；补正期限 ${e.data.deadline}`)] };
    case 'CorrectionSupplied':
      return {
        context,
        records: [step('补正材料', '其他', e.data.stillMissing.length > 0 ? `已补正，仍缺：${e.data.stillMissing.join('、')}` : '材料已补齐')],
      };
    case 'CaseTransferred':
      return { context, records: [step('移交', '其他', `${e.data.fromDepartmentCode} → ${e.data.toDepartmentCode}：${e.data.reason}`)] };
    case 'CaseSuspended':
      return {
        context,
        records: [{
          ...base, dataSet: 'SPECIAL_PROCEDURE', key: `special:${revision}`, typeCode: specialProcedureCode(e.data.procedure),
          typeName: specialProcedureName[e.data.procedure], startedAt: when, reason: e.data.reason, requestedBy: at.actorId,
          endedAt: null, result: null, opinion: null, unit, handler: at.actorId,
        }],
      };
    case 'CaseResumed': {
      // the same record as the suspension it ends: find that suspension's revision
      const opened = [...history].filter((h) => h.revision < revision && h.event.type === 'CaseSuspended').pop();
      const procedure = before.status === 'SUSPENDED' ? before.suspension.procedure : 'OTHER';
      const suspendedAt = before.status === 'SUSPENDED' ? before.suspension.suspendedAt : at.occurredAt;
      const reason = opened?.event.type === 'CaseSuspended' ? opened.event.data.reason : '';
      return {
        context,
        records: [{
          ...base, dataSet: 'SPECIAL_PROCEDURE', key: `special:${opened?.revision ?? revision}`, typeCode: specialProcedureCode(procedure),
          typeName: specialProcedureName[procedure], startedAt: gbDateTime(suspendedAt), reason, requestedBy: opened?.actorId ?? at.actorId,
          endedAt: when, result: e.data.result, opinion: `暂停 ${e.data.pausedWorkingDays} 个工作日，办结期限 ${e.data.deadline}`, unit,
          handler: at.actorId,
        }],
      };
    }
    case 'DeadlineExtended':
      return {
        context,
        records: [{
          ...base, dataSet: 'SPECIAL_PROCEDURE', key: `special:${revision}`, typeCode: SPECIAL_EXTENSION.code, typeName: SPECIAL_EXTENSION.name,
          startedAt: when, reason: e.data.reason, requestedBy: at.actorId, endedAt: when,
          result: `延长 ${e.data.workingDays} 个工作日`, opinion: `办结期限 ${e.data.deadline}`, unit, handler: at.actorId,
        }],
      };
    case 'CaseDecided':
      return {
        context,
        records: [e.data.outcome === 'APPROVED'
          ? result(RESULT_TYPE.APPROVED, RESULT_TYPE.APPROVED.name, e.data.licenceNumber)
          : result(RESULT_TYPE.DENIED, `${RESULT_TYPE.DENIED.name}${e.data.reason ? `：${e.data.reason}` : ''}`)],
      };
    case 'ResultDelivered': {
      const d = before.status === 'COMPLETED' ? before.decision : null;
      const decidedAt = d ? d.decidedAt : at.occurredAt;
      const type = d?.outcome === 'DENIED' ? RESULT_TYPE.DENIED : RESULT_TYPE.APPROVED;
      const licence = e.data.licenceNumber ?? d?.licenceNumber;
      const decidedBy = [...history].filter((h) => h.revision < revision && h.event.type === 'CaseDecided').pop();
      const decidedReason = decidedBy?.event.type === 'CaseDecided' ? decidedBy.event.data.reason : undefined;
      return {
        context,
        records: [{
          ...result(type, type === RESULT_TYPE.DENIED && decidedReason ? `${type.name}：${decidedReason}` : type.name, licence),
          handler: decidedBy?.actorId ?? at.actorId, completedAt: gbDateTime(decidedAt), delivered: true, deliveredAt: when,
          express: expressFlag(e.data.method),
        }],
      };
    }
    case 'CaseRejected':
      return { context, records: [result(RESULT_TYPE.REJECTED, `${RESULT_TYPE.REJECTED.name}：${e.data.reason}`)] };
    case 'CaseWithdrawn':
      return { context, records: [result(RESULT_TYPE.WITHDRAWN, `${RESULT_TYPE.WITHDRAWN.name}：${e.data.reason}`)] };
    case 'CorrectionExpired':
      return { context, records: [result(RESULT_TYPE.CORRECTION_EXPIRED, `${RESULT_TYPE.CORRECTION_EXPIRED.name}（补正期限 ${e.data.deadline}）`)] };
    case 'CaseEvaluated': {
      const s = satisfactionA8(e.data.score);
      return {
        context,
        records: [{
          ...base, dataSet: 'EVALUATION', key: `evaluation:${evaluations + 1}`, channelCode: channelCode[e.data.channel ?? context.channel],
          evaluator: applicant?.name ?? null, evaluatedAt: when, count: evaluations + 1, score: e.data.score,
          satisfactionCode: s.code, satisfactionName: s.name, comment: e.data.comment ?? null, personalDataErased: applicant === null,
        }],
      };
    }
    case 'DeadlineWarningRaised':
      return {
        context,
        records: [supervision('warning', SUPERVISION_TYPE.WARNING,
          `${SUPERVISION_TYPE.WARNING.name}（期限 ${e.data.deadline}，剩余 ${e.data.remainingWorkingDays} 个工作日）`, when, null)],
      };
    case 'DeadlineExceeded':
      return {
        context,
        records: [supervision('exceeded', SUPERVISION_TYPE.EXCEEDED,
          `${SUPERVISION_TYPE.EXCEEDED.name}（期限 ${e.data.deadline}，超期 ${e.data.workingDaysOverdue} 个工作日）`, when, null)],
      };
    case 'SupervisionNoticeIssued':
      return { context, records: [supervision(`notice:${e.data.noticeId}`, SUPERVISION_TYPE.NOTICE, e.data.content, when, null)] };
    case 'SupervisionNoticeAnswered': {
      const n = state.notices.find((x) => x.noticeId === e.data.noticeId);
      return {
        context,
        records: [supervision(`notice:${e.data.noticeId}`, SUPERVISION_TYPE.NOTICE, n?.content ?? SUPERVISION_TYPE.NOTICE.name,
          n ? gbDateTime(n.issuedAt) : when, `${e.data.onTime ? '按期回复' : '逾期回复'}：${e.data.answer}`)],
      };
    }
    case 'SupervisionNoticeOverdue':
      return {
        context,
        records: [supervision(`notice-overdue:${e.data.noticeId}`, SUPERVISION_TYPE.NOTICE_OVERDUE,
          `${SUPERVISION_TYPE.NOTICE_OVERDUE.name}（回复期限 ${e.data.replyBy}）`, when, null)],
      };
    case 'RectificationOverdue':
      return {
        context,
        records: [supervision('rectification', SUPERVISION_TYPE.RECTIFICATION_OVERDUE,
          `${SUPERVISION_TYPE.RECTIFICATION_OVERDUE.name}（整改期限 ${e.data.rectificationDeadline}）`, when, null)],
      };
    case 'RectificationCompleted':
      return {
        context,
        records: [supervision('rectification', SUPERVISION_TYPE.RECTIFIED,
          `差评整改（整改期限 ${e.data.rectificationDeadline}）`, when, `${e.data.onTime ? '按期整改' : '逾期整改'}：${e.data.reason}`)],
      };
    case 'ApplicantDataErased':
      return { context, records: [] };
    default: {
      const never: never = e;
      return never;
    }
  }
};
