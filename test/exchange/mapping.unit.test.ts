import { describe, expect, it } from 'vitest';
import type { Applicant } from '../../domain/case/events.ts';
import { gbDateTime, hubDateTime, satisfactionA8 } from '../../domain/exchange/codes.ts';
import {
  dataSetsOf, mapCaseEvent, type ExchangeRecord, type HistoryEvent,
} from '../../domain/exchange/mapping.ts';
import { deliveriesOf, toExchangeRows, toHubMessages } from '../../domain/exchange/targets.ts';
import { applicant, CASE_NUMBER, MATERIAL_LICENCE, serviceItem } from '../support/givenWhenThen.ts';
import { drive, ITEM, submit } from './lifecycle.ts';

const records = (history: readonly HistoryEvent[], person: Applicant | null = applicant()) =>
  history.map((h) => ({ revision: h.revision, type: h.event.type, ...mapCaseEvent(history, h.revision, person) }));

const summary = (history: readonly HistoryEvent[]) =>
  records(history).flatMap((r) => r.records.map((x) => `${r.revision} ${r.type} ${x.dataSet} ${x.key}`));

const only = <D extends ExchangeRecord['dataSet']>(history: readonly HistoryEvent[], revision: number, dataSet: D, person: Applicant | null = applicant()) => {
  const { records: out, context } = mapCaseEvent(history, revision, person);
  expect(out).toHaveLength(1);
  expect(out[0]!.dataSet).toBe(dataSet);
  return { record: out[0] as Extract<ExchangeRecord, { dataSet: D }>, context: context! };
};

const approvedPath = () =>
  submit()
    .run('AcceptCase', {}, '2026-09-30')
    .run('CompleteReviewStep', { step: '承办', action: 'PASS', opinion: '材料齐全' }, '2026-10-08', 'clerk-1')
    .run('CompleteReviewStep', { step: '审核', action: 'PASS', opinion: '符合条件' }, '2026-10-09', 'reviewer-1')
    .run('CompleteReviewStep', { step: '批准', action: 'PASS', opinion: '同意' }, '2026-10-12', 'chief-1')
    .run('DecideCase', { outcome: 'APPROVED', licenceNumber: 'JY15201020001234' }, '2026-10-12', 'chief-1', '15:00:00')
    .run('DeliverResult', { method: 'EXPRESS', trackingNumber: 'SF123' }, '2026-10-13')
    .run('EvaluateCase', { score: 5, comment: '很快', channel: 'MOBILE' }, '2026-10-14', 'user-zhangsan');

describe('GB/T 39046 mapping: lifecycle paths', () => {
  it('approved and delivered: application, acceptance, three steps, result (then its update), evaluation', () => {
    const { history } = approvedPath();
    expect(summary(history)).toEqual([
      '0 CaseSubmitted APPLICATION application',
      '1 CaseAccepted ACCEPTANCE acceptance',
      '2 ReviewStepCompleted PROCESS step:2',
      '3 ReviewStepCompleted PROCESS step:3',
      '4 ReviewStepCompleted PROCESS step:4',
      '5 CaseDecided RESULT result',
      '6 ResultDelivered RESULT result',
      '7 CaseEvaluated EVALUATION evaluation:1',
    ]);

    const app = only(history, 0, 'APPLICATION').record;
    expect(app).toMatchObject({
      caseNumber: CASE_NUMBER, implementationCode: ITEM.implementationCode, caseTypeCode: '2', applicantName: '张三',
      serviceObjectCode: '1', idTypeCode: '111', idNumber: '11010519491231002X', mobile: '13800000000', channelCode: '2',
      appliedAt: '20260929T093015', regionCode: '520102', personalDataErased: false,
    });
    expect(app.materials).toEqual([
      { name: '食品经营许可申请书', received: '1', how: '2', count: 1, receivedAt: '20260929T093015' },
      { name: MATERIAL_LICENCE, received: '1', how: '2', count: 1, receivedAt: '20260929T093015' },
    ]);

    const acc = only(history, 1, 'ACCEPTANCE').record;
    expect(acc).toMatchObject({
      basicCode: ITEM.basicCode, departmentCreditCode: '11520102MB1234567X', acceptedBy: 'clerk-1', acceptedAt: '20260930T100000',
      caseTypeCode: '2', limitDays: 10, promisedAt: `${acc.promisedAt.slice(0, 8)}T235959`,
    });
    expect(acc.promisedAt).toMatch(/^\d{8}T235959$/);

    const s2 = only(history, 2, 'PROCESS').record;
    expect(s2).toMatchObject({ action: '通过', stepName: '承办', handler: 'clerk-1', opinion: '材料齐全', startedAt: '20260930T100000', endedAt: '20261008T100000', stepStatus: '2' });
    expect(only(history, 3, 'PROCESS').record).toMatchObject({ stepName: '审核', handler: 'reviewer-1', startedAt: '20261008T100000', endedAt: '20261009T100000' });

    expect(only(history, 5, 'RESULT').record).toMatchObject({
      resultTypeCode: '1', certificateNumber: 'JY15201020001234', certificateName: ITEM.name, completedAt: '20261012T150000',
      handler: 'chief-1', delivered: false, express: '0', charged: '0',
    });
    expect(only(history, 6, 'RESULT').record).toMatchObject({
      resultTypeCode: '1', certificateNumber: 'JY15201020001234', completedAt: '20261012T150000', handler: 'chief-1',
      delivered: true, deliveredAt: '20261013T100000', express: '1',
    });
    expect(only(history, 7, 'EVALUATION').record).toMatchObject({
      count: 1, score: 5, satisfactionCode: '1', satisfactionName: '非常满意', channelCode: '3', evaluator: '张三', comment: '很快',
    });
  });

  it('every event type maps to exactly the data sets dataSetsOf announces', () => {
    const { history } = approvedPath();
    for (const r of records(history)) expect(r.records.map((x) => x.dataSet)).toEqual(dataSetsOf(r.type));
  });

  it('correction, then rejection, then a bad rating: process steps, 不予受理 result, A.8 code 5', () => {
    const d = submit(drive(), { materials: [{ name: '食品经营许可申请书', provided: true, copies: 1 }, { name: MATERIAL_LICENCE, provided: false }] })
      .run('RequestCorrection', { missingMaterials: [MATERIAL_LICENCE], reason: '缺营业执照' }, '2026-09-29')
      .run('SupplyCorrection', { materials: [{ name: MATERIAL_LICENCE, provided: true, copies: 1 }] }, '2026-09-30', 'user-zhangsan')
      .run('RejectCase', { reason: '不属于本机关职权' }, '2026-09-30', 'clerk-1', '11:00:00')
      .run('EvaluateCase', { score: 1, channel: 'WINDOW' }, '2026-10-08', 'user-zhangsan');
    expect(summary(d.history)).toEqual([
      '0 CaseSubmitted APPLICATION application',
      '1 CorrectionRequested PROCESS step:1',
      '2 CorrectionSupplied PROCESS step:2',
      '3 CaseRejected RESULT result',
      '4 CaseEvaluated EVALUATION evaluation:1',
    ]);
    expect(only(d.history, 0, 'APPLICATION').record.materials[1]).toEqual({ name: MATERIAL_LICENCE, received: '0', how: '2', count: 0, receivedAt: null });
    expect(only(d.history, 1, 'PROCESS').record).toMatchObject({ action: '其他', stepName: '补正告知', startedAt: '20260929T093015' });
    expect(only(d.history, 2, 'PROCESS').record).toMatchObject({ action: '其他', stepName: '补正材料', opinion: '材料已补齐' });
    expect(only(d.history, 3, 'RESULT').record).toMatchObject({ resultTypeCode: '3', description: '不予受理：不属于本机关职权', completedAt: '20260930T110000' });
    const ev = only(d.history, 4, 'EVALUATION');
    expect(ev.record).toMatchObject({ score: 1, satisfactionCode: '5', satisfactionName: '非常不满意', channelCode: '1', comment: null });
    // the hub: satisfaction in its own direction, written evaluation required below 3
    const [msg] = toHubMessages(ev.record, ev.context);
    expect(msg).toEqual({
      kind: 'evaluation',
      body: {
        projectNo: CASE_NUMBER, serviceNumber: CASE_NUMBER, assessNumber: 1, assessTime: '2026-10-08 10:00:00', pf: 5,
        satisfaction: 1, evalDetail: '非常不满意', writingEvaluation: '（评价人未填写文字评价）',
      },
    });
  });

  it('correction expired: a 补正逾期 result', () => {
    const d = submit(drive(), { materials: [{ name: '食品经营许可申请书', provided: true }, { name: MATERIAL_LICENCE, provided: false }] })
      .run('RequestCorrection', { missingMaterials: [MATERIAL_LICENCE], reason: '缺营业执照' }, '2026-09-29')
      .run('ExpireCorrection', {}, '2026-10-20', 'govcase-deadline-clock');
    expect(summary(d.history)).toEqual([
      '0 CaseSubmitted APPLICATION application', '1 CorrectionRequested PROCESS step:1', '2 CorrectionExpired RESULT result',
    ]);
    expect(only(d.history, 2, 'RESULT').record.resultTypeCode).toBe('5');
  });

  it('suspension, resumption and extension: special procedures (A.7 2 其他 named, 1 延长审批); the resumption updates the suspension', () => {
    const d = submit()
      .run('AcceptCase', {}, '2026-09-30')
      .run('SuspendCase', { procedure: 'HEARING', reason: '依申请听证', expectedWorkingDays: 5 }, '2026-10-08')
      .run('ResumeCase', { result: '听证完毕' }, '2026-10-12', 'clerk-2')
      .run('ExtendDeadline', { workingDays: 10, reason: '情况复杂，经负责人批准' }, '2026-10-13', 'chief-1')
      .run('TransferCase', { toDepartmentCode: 'GY-OTHER', reason: '职责调整' }, '2026-10-14')
      .run('WithdrawCase', { reason: '申请人撤回' }, '2026-10-15', 'user-zhangsan');
    expect(summary(d.history)).toEqual([
      '0 CaseSubmitted APPLICATION application',
      '1 CaseAccepted ACCEPTANCE acceptance',
      '2 CaseSuspended SPECIAL_PROCEDURE special:2',
      '3 CaseResumed SPECIAL_PROCEDURE special:2',
      '4 DeadlineExtended SPECIAL_PROCEDURE special:4',
      '5 CaseTransferred PROCESS step:5',
      '6 CaseWithdrawn RESULT result',
    ]);
    expect(only(d.history, 2, 'SPECIAL_PROCEDURE').record).toMatchObject({
      typeCode: '2', typeName: '听证', startedAt: '20261008T100000', reason: '依申请听证', endedAt: null, result: null,
    });
    expect(only(d.history, 3, 'SPECIAL_PROCEDURE').record).toMatchObject({
      typeCode: '2', typeName: '听证', startedAt: '20261008T100000', reason: '依申请听证', endedAt: '20261012T100000',
      result: '听证完毕', handler: 'clerk-2', requestedBy: 'clerk-1',
    });
    expect(only(d.history, 4, 'SPECIAL_PROCEDURE').record).toMatchObject({ typeCode: '1', typeName: '延长审批', result: '延长 10 个工作日' });
    expect(only(d.history, 5, 'PROCESS').record).toMatchObject({ action: '其他', stepName: '移交', startedAt: '20261012T100000' });
    expect(only(d.history, 6, 'RESULT').record).toMatchObject({ resultTypeCode: '4' });

    // the exchange tables: the resumption writes the suspension's row again (same row_guid)
    const rowOf = (rev: number) => { const o = only(d.history, rev, 'SPECIAL_PROCEDURE'); return toExchangeRows(o.record, o.context); };
    expect(rowOf(2)[0]!.rowGuid).toBe(rowOf(3)[0]!.rowGuid);
    expect(rowOf(3)[0]!.columns).toMatchObject({ special_type: '2', special_name: '听证', special_time: '2026-10-08 10:00:00', end_time: '2026-10-12 10:00:00', result: '听证完毕' });
    expect(rowOf(4)[0]!.rowGuid).not.toBe(rowOf(2)[0]!.rowGuid);
  });

  it('电子监察: warning, exceeded, a 督办 notice and its answer (same record), rectification', () => {
    const d = submit()
      .run('AcceptCase', {}, '2026-09-30')
      .run('RaiseDeadlineWarning', {}, '2026-10-19', 'govcase-deadline-clock')
      .run('MarkDeadlineExceeded', {}, '2026-10-21', 'govcase-deadline-clock')
      .run('IssueSupervisionNotice', { noticeId: '7d4c2b1a-3e5f-4a6b-8c7d-9e0f1a2b3c4d', content: '请说明超期原因', replyWithinWorkingDays: 3 }, '2026-10-21', 'supervisor-1')
      .run('AnswerSupervisionNotice', { noticeId: '7d4c2b1a-3e5f-4a6b-8c7d-9e0f1a2b3c4d', answer: '已加快办理' }, '2026-10-22');
    expect(summary(d.history)).toEqual([
      '0 CaseSubmitted APPLICATION application',
      '1 CaseAccepted ACCEPTANCE acceptance',
      '2 DeadlineWarningRaised SUPERVISION warning',
      '3 DeadlineExceeded SUPERVISION exceeded',
      '4 SupervisionNoticeIssued SUPERVISION notice:7d4c2b1a-3e5f-4a6b-8c7d-9e0f1a2b3c4d',
      '5 SupervisionNoticeAnswered SUPERVISION notice:7d4c2b1a-3e5f-4a6b-8c7d-9e0f1a2b3c4d',
    ]);
    expect(only(d.history, 2, 'SUPERVISION').record).toMatchObject({ warningTypeCode: '1', ruleNo: 'GC-DEADLINE-WARNING', itemTypeCode: '01', organisation: ITEM.departmentName });
    expect(only(d.history, 3, 'SUPERVISION').record).toMatchObject({ warningTypeCode: '2' });
    expect(only(d.history, 5, 'SUPERVISION').record).toMatchObject({
      warningTypeCode: '3', content: '请说明超期原因', issuedAt: '20261021T100000', statusAt: '20261022T100000', resultDescription: '按期回复：已加快办理',
    });
    // 电子监察 goes to no target of exchange.md (only the NDJSON export)
    expect(deliveriesOf('DeadlineExceeded', ['SUPERVISION'])).toEqual([]);
  });

  it('an erased subject: records without personal data, marked, and the hub gets empty personal fields', () => {
    const d = approvedPath();
    const app = only(d.history, 0, 'APPLICATION', null).record;
    expect(app).toMatchObject({ applicantName: null, idNumber: null, mobile: null, address: null, contactName: null, personalDataErased: true, idTypeCode: '111' });
    const rows = toExchangeRows(app, mapCaseEvent(d.history, 0, null).context!);
    expect(rows[0]!.columns).toMatchObject({ applyer_name: null, applyer_page_code: null, contact_mobile: null, applyer_page_type: '111' });
    const acc = only(d.history, 1, 'ACCEPTANCE', null);
    const [svc] = toHubMessages(acc.record, acc.context);
    expect(svc!.kind === 'service' && svc!.body).toMatchObject({ userName: '', creditNum: '', mobile: '', creditType: '111' });
    expect(only(d.history, 7, 'EVALUATION', null).record).toMatchObject({ evaluator: null, personalDataErased: true });
    expect(mapCaseEvent(d.history, 7, null).context!.personalDataErased).toBe(true);
  });

  it('an erasure event itself yields no record', () => {
    const d = approvedPath().run('EraseApplicantData', { legalBasis: '个人信息保护法第47条' }, '2026-11-02', 'admin-1');
    expect(mapCaseEvent(d.history, 8, null).records).toEqual([]);
  });
});

describe('per-target mappers', () => {
  it('exchange tables: the application and acceptance write the same up_pro_accept row; materials, steps, result and satisfaction', () => {
    const { history } = approvedPath();
    const rows = (rev: number) => { const m = mapCaseEvent(history, rev, applicant()); return m.records.flatMap((r) => toExchangeRows(r, m.context!)); };
    const app = rows(0);
    expect(app.map((r) => r.table)).toEqual(['up_pro_accept', 'up_pro_material', 'up_pro_material']);
    expect(app[0]!.columns).toMatchObject({
      project_no: CASE_NUMBER, catalog_code: ITEM.basicCode, task_code: ITEM.implementationCode, task_handle_item: ITEM.handlingItemCode,
      apply_date: '2026-09-29 09:30:15', apply_type: '2', applyer_type: '1', applyer_name: '张三', applyer_page_type: '111',
      applyer_page_code: '11010519491231002X', project_type: '2', org_code: '11520102MB1234567X',
    });
    const acc = rows(1);
    expect(acc).toHaveLength(1);
    expect(acc[0]!.rowGuid).toBe(app[0]!.rowGuid);
    expect(acc[0]!.columns).toMatchObject({ accept_date: '2026-09-30 10:00:00', handle_user_name: 'clerk-1', accept_doc_no: `${CASE_NUMBER}-SL` });
    expect(rows(2)[0]).toMatchObject({ table: 'up_pro_process', columns: { event_name: '通过', process_name: '承办', event_end_time: '2026-10-08 10:00:00' } });
    expect(rows(5)[0]).toMatchObject({ table: 'up_pro_result', columns: { result_type: '1', result_cetr_no: 'JY15201020001234', is_delivery_results: '0' } });
    expect(rows(6)[0]).toMatchObject({ table: 'up_pro_result', columns: { is_delivery_results: '1' } });
    // satisfaction in A.8's direction: score 5 → 1 非常满意
    expect(rows(7)).toEqual([{ table: 'up_pro_result', rowGuid: rows(5)[0]!.rowGuid, columns: { project_no: CASE_NUMBER, satisfaction: '1' } }]);
  });

  it('the hub: service record at acceptance (办理中) and at the decision (已办结), none at delivery, then the evaluation', () => {
    const { history } = approvedPath();
    const msgs = (rev: number) => { const m = mapCaseEvent(history, rev, applicant()); return m.records.flatMap((r) => toHubMessages(r, m.context!)); };
    expect(deliveriesOf('CaseAccepted', dataSetsOf('CaseAccepted'))).toEqual([{ target: 'exchange_db', dataSet: 'ACCEPTANCE' }, { target: 'haochaping', dataSet: 'ACCEPTANCE' }]);
    expect(deliveriesOf('ResultDelivered', dataSetsOf('ResultDelivered'))).toEqual([{ target: 'exchange_db', dataSet: 'RESULT' }]);
    expect(deliveriesOf('CaseSubmitted', dataSetsOf('CaseSubmitted'))).toEqual([{ target: 'exchange_db', dataSet: 'APPLICATION' }]);
    const [accepted] = msgs(1);
    expect(accepted).toEqual({
      kind: 'service',
      body: {
        projectNo: CASE_NUMBER, projectName: ITEM.name, taskCode: ITEM.implementationCode, taskHandleItem: ITEM.handlingItemCode,
        taskName: ITEM.name, taskType: '01', areaCode: '520102000000', deptCode: '11520102MB1234567X', deptName: ITEM.departmentName,
        proStatus: 2, acceptDate: '2026-09-30 10:00:00', resultDate: '', promiseDay: 10, promiseType: 1, proChannel: 1, promiseTime: 2,
        userName: '张三', userProp: 1, creditType: '111', creditNum: '11010519491231002X', mobile: '13800000000',
        serviceName: ITEM.name, serviceNumber: CASE_NUMBER, serviceTime: '2026-09-30 10:00:00', dataSource: 'govcase',
      },
    });
    const [done] = msgs(5);
    expect(done!.kind === 'service' && done!.body).toMatchObject({ proStatus: 3, acceptDate: '2026-09-30 10:00:00', resultDate: '2026-10-12 15:00:00' });
    const [evaluation] = msgs(7);
    expect(evaluation).toEqual({
      kind: 'evaluation',
      body: { projectNo: CASE_NUMBER, serviceNumber: CASE_NUMBER, assessNumber: 1, assessTime: '2026-10-14 10:00:00', pf: 2, satisfaction: 5, evalDetail: '非常满意', writingEvaluation: '很快' },
    });
  });

  it('an immediate item: 即办件 (A.6 1) and the hub promiseTime 1 with 0 days', () => {
    const d = submit(drive(), { item: serviceItem({ caseType: 'IMMEDIATE', promisedLimitDays: 0 }) }).run('AcceptCase', {}, '2026-09-29', 'clerk-1', '09:40:00');
    expect(only(d.history, 0, 'APPLICATION').record.caseTypeCode).toBe('1');
    const acc = only(d.history, 1, 'ACCEPTANCE');
    expect(acc.record.caseTypeCode).toBe('1');
    const [svc] = toHubMessages(acc.record, acc.context);
    expect(svc!.kind === 'service' && svc!.body).toMatchObject({ promiseTime: 1, promiseDay: 0, taskCode: '520102-XK-00001-001', deptCode: acc.context.departmentCode });
  });

  it('codes and dates: A.8 is the reverse of the score, dates in CST in each format', () => {
    expect([1, 2, 3, 4, 5].map((s) => satisfactionA8(s).code)).toEqual(['5', '4', '3', '2', '1']);
    expect(gbDateTime('2026-09-29T17:05:09Z')).toBe('20260930T010509');
    expect(hubDateTime('2026-09-29T17:05:09Z')).toBe('2026-09-30 01:05:09');
  });
});
