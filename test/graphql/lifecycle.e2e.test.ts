import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeadlineClock } from '../../projections/deadlineClock.ts';
import { getPostgresCaseNumbers } from '../../infrastructure/postgres/caseNumbers.ts';
import { createTestDatabase } from '../support/db.ts';
import { testClock, testVault } from '../support/app.ts';
import { codes, gql, startTestServer, token } from '../support/server.ts';

const DEPT = 'GY-NM-SCJG';
const REGION = '520102';

const RESULT = `caseId version position events { type revision hash previousHash metadata data } case { id caseNumber status version currentStep deadline outcome completedOnTime alertLevel applicant { name idNumber erased } evaluation { score bad rectified } }`;

describe('the case lifecycle over HTTP', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  const clock = testClock('2026-09-28T09:00:00+08:00');
  const itemCode = `FOOD-${randomUUID().slice(0, 6)}`;
  const t = {} as Record<'admin' | 'applicant' | 'clerk' | 'reviewer' | 'supervisor', string>;

  const run = async (mutation: string, input: Record<string, unknown>, who: keyof typeof t) => {
    const r = await gql(server.url, `mutation($input: ${inputType[mutation]}!) { ${mutation}(input: $input) { ${RESULT} } }`, { input }, t[who]);
    if (r.errors) throw new Error(`${mutation}: ${JSON.stringify(r.errors)}`);
    return r.data![mutation] as { caseId: string; version: number; events: { type: string; data: any }[]; case: Record<string, any> };
  };
  const submit = async () =>
    (await run('submitCase', {
      itemCode, channel: 'PC', commandId: randomUUID(),
      applicant: { name: '王小明', idType: '111', idNumber: '520102199203041234', phone: '13912342345', address: '贵阳市南明区花果园' },
      materials: [{ name: '申请书', provided: true }, { name: '营业执照', provided: false }],
    }, 'applicant')).caseId;
  const types = async (caseId: string) => {
    const r = await gql(server.url, `query($id: ID!) { case(id: $id) { history { type } } }`, { id: caseId }, t.clerk);
    return (r.data!.case as { history: { type: string }[] }).history.map((e) => e.type);
  };

  beforeAll(async () => {
    db = await createTestDatabase('e2e_life');
    server = await startTestServer(db, { clock });
    t.admin = await token({ sub: 'admin-1', roles: ['admin'] });
    t.applicant = await token({ sub: 'citizen-1', roles: ['applicant'], name: '王小明' });
    t.clerk = await token({ sub: 'clerk-1', roles: ['clerk'], dept: DEPT, region: REGION });
    t.reviewer = await token({ sub: 'reviewer-1', roles: ['reviewer'], dept: DEPT, region: REGION });
    t.supervisor = await token({ sub: 'sup-1', roles: ['supervisor'], region: '520100' });
    const r = await gql(server.url, `mutation($input: ServiceItemInput!) { publishServiceItem(input: $input) { itemCode version steps materials { name provided } } }`, {
      input: {
        itemCode, name: '食品经营许可', itemType: '01', departmentCode: DEPT, departmentName: '南明区市场监督管理局', regionCode: REGION,
        caseType: 'PROMISED', legalLimitDays: 20, promisedLimitDays: 10,
        materials: [{ name: '申请书', provided: true }, { name: '营业执照', provided: true }],
      },
    }, t.admin);
    expect(r.errors).toBeUndefined();
    expect(r.data!.publishServiceItem).toMatchObject({ itemCode, version: 1, steps: ['承办', '审核', '批准'] });
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  it('approved, with a correction and a suspension across National Day', async () => {
    clock.set('2026-09-28T09:00:00+08:00');
    const id = await submit();
    await run('requestCorrection', { caseId: id, missingMaterials: ['营业执照'], reason: '请补营业执照' }, 'clerk');
    await run('supplyCorrection', { caseId: id, materials: [{ name: '营业执照', provided: true }] }, 'applicant');
    const accepted = await run('acceptCase', { caseId: id }, 'clerk');
    expect(accepted.case).toMatchObject({ status: 'ACCEPTED', deadline: '2026-10-16', currentStep: '承办' });
    await run('completeReviewStep', { caseId: id, step: '承办', action: 'PASS', opinion: '材料齐全' }, 'reviewer');
    clock.set('2026-09-30T10:00:00+08:00');
    await run('suspendCase', { caseId: id, procedure: 'SITE_CHECK', reason: '实地核查', expectedWorkingDays: 3 }, 'reviewer');
    clock.set('2026-10-12T10:00:00+08:00');
    const resumed = await run('resumeCase', { caseId: id, result: '核查合格' }, 'reviewer');
    expect(resumed.case.deadline).toBe('2026-10-22');
    await run('completeReviewStep', { caseId: id, step: '审核', action: 'PASS', opinion: '同意' }, 'reviewer');
    await run('completeReviewStep', { caseId: id, step: '批准', action: 'PASS', opinion: '准予' }, 'reviewer');
    const decided = await run('decideCase', { caseId: id, outcome: 'APPROVED', licenceNumber: 'JY15201020001' }, 'reviewer');
    expect(decided.case).toMatchObject({ status: 'COMPLETED', outcome: 'APPROVED', completedOnTime: true });
    const delivered = await run('deliverResult', { caseId: id, method: 'EXPRESS', trackingNumber: 'SF100200300' }, 'clerk');
    expect(delivered.case.status).toBe('DELIVERED');
    // read-your-writes through the projection
    const read = await gql(server.url, `query($id: ID!, $v: Int) { case(id: $id, atLeastVersion: $v) { status version applicant { name idNumber } } }`, { id, v: delivered.version }, t.supervisor);
    expect(read.data!.case).toMatchObject({ status: 'DELIVERED', version: delivered.version, applicant: { name: '王**', idNumber: '520102********1234' } });
    expect(await types(id)).toEqual([
      'CaseSubmitted', 'CorrectionRequested', 'CorrectionSupplied', 'CaseAccepted', 'ReviewStepCompleted', 'CaseSuspended',
      'CaseResumed', 'ReviewStepCompleted', 'ReviewStepCompleted', 'CaseDecided', 'ResultDelivered',
    ]);
  });

  it('rejected (不予受理)', async () => {
    const id = await submit();
    const r = await run('rejectCase', { caseId: id, reason: '不属于本部门受理范围' }, 'clerk');
    expect(r.case.status).toBe('REJECTED');
  });

  it('withdrawn by the applicant, and then nothing more can happen', async () => {
    const id = await submit();
    const r = await run('withdrawCase', { caseId: id, reason: '不再需要' }, 'applicant');
    expect(r.case.status).toBe('WITHDRAWN');
    const again = await gql(server.url, `mutation { acceptCase(input: { caseId: "${id}" }) { caseId } }`, {}, t.clerk);
    expect(codes(again), JSON.stringify(again.errors)).toEqual(["INVALID_TRANSITION"]);
  });

  it('correction expired by the deadline clock', async () => {
    clock.set('2026-11-02T09:00:00+08:00');
    const id = await submit();
    await run('requestCorrection', { caseId: id, missingMaterials: ['营业执照'], reason: '请补营业执照' }, 'clerk');
    await server.runner.waitFor('cases', async () => (await server.runner.status())[0]!.lag === 0, 10_000);
    clock.set('2026-11-12T09:00:00+08:00');
    const deadlineClock = createDeadlineClock({
      pool: db.pool, connectionString: db.connectionString, schema: db.schema,
      deps: { store: db.newStore(), clock, ids: { uuid: randomUUID }, caseNumbers: getPostgresCaseNumbers(db.pool), vault: testVault(db.pool) },
    });
    expect((await deadlineClock.tick()).correctionsExpired).toBeGreaterThanOrEqual(1);
    const r = await gql(server.url, `query($id: ID!) { case(id: $id, atLeastVersion: 2) { status } }`, { id }, t.applicant);
    expect(r.data!.case).toEqual({ status: 'CORRECTION_EXPIRED' });
  });

  const throughSteps = async (id: string) => {
    await run('supplyCorrection', { caseId: id, materials: [{ name: '营业执照', provided: true }] }, 'applicant').catch(() => undefined);
    await run('acceptCase', { caseId: id }, 'clerk');
    for (const step of ['承办', '审核', '批准']) await run('completeReviewStep', { caseId: id, step, action: 'PASS', opinion: '同意' }, 'reviewer');
  };

  it('denied (不予许可), with its reason', async () => {
    clock.set('2026-11-16T09:00:00+08:00');
    const id = await submit();
    await run('requestCorrection', { caseId: id, missingMaterials: ['营业执照'], reason: '补' }, 'clerk');
    await throughSteps(id);
    const noReason = await gql(server.url, `mutation { decideCase(input: { caseId: "${id}", outcome: DENIED }) { caseId } }`, {}, t.reviewer);
    expect(codes(noReason)).toEqual(['VALIDATION_FAILED']);
    const r = await run('decideCase', { caseId: id, outcome: 'DENIED', reason: '场所不符合要求' }, 'reviewer');
    expect(r.case).toMatchObject({ status: 'COMPLETED', outcome: 'DENIED' });
  });

  it('a bad rating, rectified by the department', async () => {
    const id = await submit();
    await run('requestCorrection', { caseId: id, missingMaterials: ['营业执照'], reason: '补' }, 'clerk');
    await throughSteps(id);
    await run('decideCase', { caseId: id, outcome: 'APPROVED' }, 'reviewer');
    const rated = await run('evaluateCase', { caseId: id, score: 1, comment: '等太久' }, 'applicant');
    expect(rated.case.evaluation).toEqual({ score: 1, bad: true, rectified: false });
    const fixed = await run('completeRectification', { caseId: id, reason: '已优化流程并回访' }, 'clerk');
    expect(fixed.case.evaluation).toEqual({ score: 1, bad: true, rectified: true });
  });

  it('a 督办 notice, issued by a supervisor and answered by the department', async () => {
    const id = await submit();
    await run('requestCorrection', { caseId: id, missingMaterials: ['营业执照'], reason: '补' }, 'clerk');
    await run('supplyCorrection', { caseId: id, materials: [{ name: '营业执照', provided: true }] }, 'applicant');
    await run('acceptCase', { caseId: id }, 'clerk');
    const issued = await run('issueSupervisionNotice', { caseId: id, content: '请说明办理进度', replyWithinWorkingDays: 2, commandId: randomUUID() }, 'supervisor');
    const noticeId = (issued.events[0] as unknown as { data: { noticeId: string } }).data.noticeId;
    const answered = await run('answerSupervisionNotice', { caseId: id, noticeId, answer: '已在审核，明日办结' }, 'clerk');
    expect(answered.events.map((e) => e.type)).toEqual(['SupervisionNoticeAnswered']);
    await server.runner.waitFor('supervision', async () => (await server.runner.status()).every((s) => s.lag === 0), 10_000);
    const again = await gql(server.url, `query { supervision(filter: { regionCode: "520100" }) { edges { node { case { id } notices { id content answer } } } } }`, {}, t.supervisor);
    expect(again.errors).toBeUndefined();
    const entry = (again.data!.supervision.edges as { node: { case: { id: string }; notices: { id: string; answer: string }[] } }[]).find((e) => e.node.case.id === id);
    expect(entry?.node.notices).toEqual([{ id: noticeId, content: '请说明办理进度', answer: '已在审核，明日办结' }]);
  });
});

const inputType: Record<string, string> = {
  submitCase: 'SubmitCaseInput', requestCorrection: 'RequestCorrectionInput', supplyCorrection: 'SupplyCorrectionInput',
  acceptCase: 'CaseCommandInput', rejectCase: 'ReasonedCommandInput', completeReviewStep: 'CompleteReviewStepInput',
  suspendCase: 'SuspendCaseInput', resumeCase: 'ResumeCaseInput', extendDeadline: 'ExtendDeadlineInput',
  transferCase: 'TransferCaseInput', decideCase: 'DecideCaseInput', deliverResult: 'DeliverResultInput',
  withdrawCase: 'ReasonedCommandInput', evaluateCase: 'EvaluateCaseInput', completeRectification: 'ReasonedCommandInput',
  issueSupervisionNotice: 'SupervisionNoticeInput', answerSupervisionNotice: 'AnswerSupervisionNoticeInput',
};
