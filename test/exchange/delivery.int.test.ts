import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleCaseCommand, submitCase, type CaseCommandInput, type CaseDeps } from '../../application/cases.ts';
import { eraseApplicantData } from '../../application/erasure.ts';
import { publishServiceItem } from '../../application/serviceItems.ts';
import type { Principal } from '../../domain/permissions.ts';
import { createDispatcher, type Dispatcher } from '../../infrastructure/exchange/dispatcher.ts';
import { createExchangeDbAdapter } from '../../infrastructure/exchange/exchangeDb.ts';
import { createHaochapingAdapter } from '../../infrastructure/exchange/haochaping.ts';
import { openWithVault } from '../../infrastructure/exchange/payloads.ts';
import { exchangeStatus, retryDeadLetters } from '../../projections/exchange/status.ts';
import { createExchangeOutboxProjection } from '../../projections/exchange/outboxProjection.ts';
import { createProjectionRunner, type ProjectionRunner } from '../../projections/runner.ts';
import { itemInput, people, submitInput, testClock, writeSide } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';
import { createMariaDatabase, hubKeys, startReceiver, waitUntil } from './support.ts';

/**
 * Lifecycle paths through the real command path, the outbox projection, the dispatcher, a real
 * MariaDB and a local 好差评 receiver: the rows and pushes each path yields, with their codes.
 */
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let maria: Awaited<ReturnType<typeof createMariaDatabase>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let deps: CaseDeps;
let runner: ProjectionRunner;
let dispatcher: Dispatcher;
const keys = hubKeys();
const clock = testClock('2026-09-29T09:30:00+08:00');
const itemCode = `EXD-${randomUUID().slice(0, 8)}`;

const run = (caseId: string, input: CaseCommandInput, principal: Principal = people.clerk) =>
  handleCaseCommand(deps, caseId, input, { principal, commandId: randomUUID() });

const outbox = async (caseId: string) =>
  (await db.pool.query<{ target: string; revision: number; data_set: string; status: string; attempts: number; duplicate: boolean; personal_data_erased: boolean | null }>(
    'select target, revision, data_set, status, attempts, duplicate, personal_data_erased from exchange_outbox where case_id = $1 order by id', [caseId],
  )).rows;

const settled = (caseId: string) => async () => {
  const rows = await outbox(caseId);
  return rows.length > 0 && rows.every((r) => r.status !== 'pending');
};

const hubFor = (caseNumber: string) => receiver.order.filter((e) => (e.data as { projectNo: string }).projectNo === caseNumber);

beforeAll(async () => {
  db = await createTestDatabase('exchange_delivery');
  maria = await createMariaDatabase('delivery');
  receiver = await startReceiver(keys.publicKey);
  deps = writeSide(db, clock);
  await publishServiceItem(deps, {
    ...itemInput(itemCode), basicCode: '000117001000', implementationCode: '11520102MB1234567X400011',
    handlingItemCode: '11520102MB1234567X40001170001', departmentCreditCode: '11520102MB1234567X',
  }, { principal: people.admin });
  runner = createProjectionRunner({
    pool: db.pool, store: db.newStore(), connectionString: db.connectionString, schema: db.schema,
    projections: [createExchangeOutboxProjection({ targets: ['exchange_db', 'haochaping'] })],
  });
  runner.start();
  dispatcher = createDispatcher({
    connectionString: db.connectionString, schema: db.schema, store: db.newStore(), openApplicant: openWithVault(deps.vault),
    adapters: [createExchangeDbAdapter({ url: maria.url }), createHaochapingAdapter({ url: receiver.url, signingKey: keys.privateKey })],
    retryBaseMs: 50, retryMaxMs: 200, maxAttempts: 4, idleMs: 50,
  });
  dispatcher.start();
});

afterAll(async () => {
  await dispatcher?.stop();
  await runner?.stop();
  await receiver?.close();
  await maria?.drop();
  await db?.drop();
});

describe('lifecycle paths → exchange tables and 好差评 pushes', () => {
  it('approved, delivered, rated: accept row inserted then updated, steps, result updated twice, service records then the evaluation', async () => {
    const s = await submitCase(deps, submitInput(itemCode), { principal: people.applicant, commandId: randomUUID() });
    const id = s.caseId;
    const no = s.state.status !== 'NONE' ? s.state.caseNumber : '';
    clock.set('2026-09-30T10:00:00+08:00');
    await run(id, { type: 'AcceptCase', data: {} });
    for (const step of ['承办', '审核', '批准']) await run(id, { type: 'CompleteReviewStep', data: { step, action: 'PASS', opinion: '同意' } }, people.reviewer);
    await run(id, { type: 'DecideCase', data: { outcome: 'APPROVED', licenceNumber: 'JY1520102000001' } }, people.reviewer);
    await run(id, { type: 'DeliverResult', data: { method: 'EXPRESS', trackingNumber: 'SF1' } });
    await run(id, { type: 'EvaluateCase', data: { score: 4, comment: '满意', channel: 'PC' } }, people.applicant);
    await waitUntil(settled(id), 30_000, 'the case delivered');
    await waitUntil(async () => (await outbox(id)).length === 11, 10_000, 'all outbox rows');

    const rows = await outbox(id);
    expect(rows.map((r) => `${r.revision} ${r.target} ${r.data_set}`)).toEqual([
      '0 exchange_db APPLICATION',
      '1 exchange_db ACCEPTANCE', '1 haochaping ACCEPTANCE',
      '2 exchange_db PROCESS', '3 exchange_db PROCESS', '4 exchange_db PROCESS',
      '5 exchange_db RESULT', '5 haochaping RESULT',
      '6 exchange_db RESULT',
      '7 exchange_db EVALUATION', '7 haochaping EVALUATION',
    ]);
    expect(rows.every((r) => r.status === 'delivered' && r.attempts === 1 && !r.duplicate)).toBe(true);

    const accept = await maria.rows<Record<string, unknown>>('select * from up_pro_accept where project_no = ?', [no]);
    expect(accept).toHaveLength(1);
    expect(accept[0]).toMatchObject({
      cd_operation: 'U', catalog_code: '000117001000', task_code: '11520102MB1234567X400011', task_handle_item: '11520102MB1234567X40001170001',
      applyer_name: '张三', applyer_page_type: '111', applyer_page_code: '520102199001011234', contact_mobile: '13912342345',
      apply_type: '2', applyer_type: '1', project_type: '2', org_code: '11520102MB1234567X', handle_user_name: people.clerk.id,
      apply_date: '2026-09-29 09:30:00', accept_date: '2026-09-30 10:00:00', data_source: 'govcase',
    });
    expect(String(accept[0]!.cd_batch)).toMatch(/^GC\d{14}\d{5}$/);
    const materials = await maria.rows<{ material_name: string; cd_operation: string }>('select material_name, cd_operation from up_pro_material where project_no = ? order by row_guid', [no]);
    expect(materials).toEqual([{ material_name: '申请书', cd_operation: 'I' }, { material_name: '营业执照', cd_operation: 'I' }]);
    const steps = await maria.rows<{ process_name: string; event_name: string; cd_operation: string }>(
      'select process_name, event_name, cd_operation from up_pro_process where project_no = ? order by event_end_time, row_guid', [no]);
    expect(steps).toEqual([
      { process_name: '承办', event_name: '通过', cd_operation: 'I' },
      { process_name: '审核', event_name: '通过', cd_operation: 'I' },
      { process_name: '批准', event_name: '通过', cd_operation: 'I' },
    ]);
    const result = await maria.rows<Record<string, unknown>>('select * from up_pro_result where project_no = ?', [no]);
    expect(result).toHaveLength(1);
    // score 4 → A.8 2 满意; delivered by express
    expect(result[0]).toMatchObject({ cd_operation: 'U', result_type: '1', result_cetr_no: 'JY1520102000001', is_delivery_results: '1', satisfaction: '2' });

    const pushes = hubFor(no);
    expect(pushes.map((p) => `${p.msgType} ${(p.data as { proStatus?: number }).proStatus ?? ''}`.trim())).toEqual([
      'pushService 2', 'pushService 3', 'pushEvaluation',
    ]);
    expect(pushes[2]!.data).toMatchObject({ satisfaction: 4, pf: 1, assessNumber: 1, writingEvaluation: '满意' });
    expect(pushes[0]!.data).toMatchObject({ userName: '张三', creditNum: '520102199001011234', areaCode: '520102000000', promiseTime: 2, proChannel: 1 });
    expect(receiver.badSignatures).toBe(0);
  });

  it('rejected then rated badly: the accept row stays an insert, result 不予受理, hub satisfaction 1 with written evaluation', async () => {
    const s = await submitCase(deps, submitInput(itemCode), { principal: people.applicant, commandId: randomUUID() });
    const id = s.caseId;
    const no = s.state.status !== 'NONE' ? s.state.caseNumber : '';
    await run(id, { type: 'RejectCase', data: { reason: '不属于本机关职权' } });
    await run(id, { type: 'EvaluateCase', data: { score: 1, comment: '太慢' } }, people.applicant);
    await waitUntil(async () => (await outbox(id)).length === 5 && (await settled(id)()), 30_000, 'the rejected case delivered');
    const accept = await maria.rows<{ cd_operation: string; accept_date: string | null }>('select cd_operation, accept_date from up_pro_accept where project_no = ?', [no]);
    expect(accept).toEqual([{ cd_operation: 'I', accept_date: null }]);
    const result = await maria.rows<Record<string, unknown>>('select result_type, satisfaction, cd_operation from up_pro_result where project_no = ?', [no]);
    expect(result).toEqual([{ result_type: '3', satisfaction: '5', cd_operation: 'U' }]);
    const pushes = hubFor(no);
    expect(pushes.map((p) => p.msgType)).toEqual(['pushService', 'pushEvaluation']);
    expect(pushes[0]!.data).toMatchObject({ proStatus: 3, acceptDate: '' });
    expect(pushes[1]!.data).toMatchObject({ satisfaction: 1, writingEvaluation: '太慢', evalDetail: '非常不满意' });
  });

  it('suspended, resumed, extended, withdrawn: the special-procedure row is inserted then updated', async () => {
    const s = await submitCase(deps, submitInput(itemCode), { principal: people.applicant, commandId: randomUUID() });
    const id = s.caseId;
    const no = s.state.status !== 'NONE' ? s.state.caseNumber : '';
    await run(id, { type: 'AcceptCase', data: {} });
    await run(id, { type: 'SuspendCase', data: { procedure: 'EXPERT_REVIEW', reason: '专家评审', expectedWorkingDays: 5 } }, people.reviewer);
    await waitUntil(async () => (await maria.rows('select 1 from up_pro_special_procedure where project_no = ?', [no])).length === 1, 30_000, 'the suspension row');
    expect(await maria.rows('select special_type, special_name, cd_operation, end_time from up_pro_special_procedure where project_no = ?', [no]))
      .toEqual([{ special_type: '2', special_name: '专家评审', cd_operation: 'I', end_time: null }]);
    await run(id, { type: 'ResumeCase', data: { result: '评审通过' } }, people.reviewer);
    await run(id, { type: 'ExtendDeadline', data: { workingDays: 5, reason: '情况复杂' } }, people.reviewer);
    await run(id, { type: 'WithdrawCase', data: { reason: '不办了' } }, people.applicant);
    await waitUntil(async () => (await outbox(id)).length === 8 && (await settled(id)()), 30_000, 'the withdrawn case delivered');
    const special = await maria.rows<Record<string, unknown>>(
      'select special_type, special_name, cd_operation, result from up_pro_special_procedure where project_no = ? order by special_time, special_type desc', [no]);
    expect(special).toEqual([
      { special_type: '2', special_name: '专家评审', cd_operation: 'U', result: '评审通过' },
      { special_type: '1', special_name: '延长审批', cd_operation: 'I', result: '延长 5 个工作日' },
    ]);
    expect(await maria.rows('select result_type from up_pro_result where project_no = ?', [no])).toEqual([{ result_type: '4' }]);
    expect(hubFor(no).map((p) => (p.data as { proStatus: number }).proStatus)).toEqual([2, 3]);
  });

  it('a subject erased before delivery: sent without personal data, and the outbox records the erasure', async () => {
    await dispatcher.stop();
    const input = { ...submitInput(itemCode), applicant: { name: '李四', idType: '111', idNumber: '520102198001019999', phone: '13700000000' } };
    const s = await submitCase(deps, input, { principal: people.applicant, commandId: randomUUID() });
    const id = s.caseId;
    const no = s.state.status !== 'NONE' ? s.state.caseNumber : '';
    await run(id, { type: 'AcceptCase', data: {} });
    await eraseApplicantData(deps, async () => [id], { subjectIdNumber: '520102198001019999', legalBasis: '个人信息保护法第47条' }, { principal: people.admin, commandId: randomUUID() });
    dispatcher = createDispatcher({
      connectionString: db.connectionString, schema: db.schema, store: db.newStore(), openApplicant: openWithVault(deps.vault),
      adapters: [createExchangeDbAdapter({ url: maria.url }), createHaochapingAdapter({ url: receiver.url, signingKey: keys.privateKey })],
      retryBaseMs: 50, retryMaxMs: 200, maxAttempts: 4, idleMs: 50,
    });
    dispatcher.start();
    await waitUntil(async () => (await outbox(id)).length === 3 && (await settled(id)()), 30_000, 'the erased case delivered');
    const accept = await maria.rows<Record<string, unknown>>('select applyer_name, applyer_page_code, contact_mobile, applyer_page_type from up_pro_accept where project_no = ?', [no]);
    expect(accept).toEqual([{ applyer_name: null, applyer_page_code: null, contact_mobile: null, applyer_page_type: '111' }]);
    expect(hubFor(no)[0]!.data).toMatchObject({ userName: '', creditNum: '', mobile: '' });
    const rows = await outbox(id);
    expect(rows.filter((r) => r.data_set === 'APPLICATION' || r.target === 'haochaping').every((r) => r.personal_data_erased === true)).toBe(true);
  });

  it('a hub answering 500, 500, then 200 gets the record once; a "duplicate" answer counts as delivered', async () => {
    const a = await submitCase(deps, submitInput(itemCode), { principal: people.applicant, commandId: randomUUID() });
    const b = await submitCase(deps, submitInput(itemCode), { principal: people.applicant, commandId: randomUUID() });
    receiver.script(`haochaping:${a.caseId}:1:`, [500, 500, 200]);
    receiver.preload(`haochaping:${b.caseId}:1:ACCEPTANCE`);
    await run(a.caseId, { type: 'AcceptCase', data: {} });
    await run(b.caseId, { type: 'AcceptCase', data: {} });
    await waitUntil(async () => (await settled(a.caseId)()) && (await settled(b.caseId)()), 30_000, 'both delivered');
    const hubA = (await outbox(a.caseId)).find((r) => r.target === 'haochaping')!;
    expect(hubA).toMatchObject({ status: 'delivered', attempts: 3, duplicate: false });
    expect(receiver.requests.filter((r) => r.nonce === `haochaping:${a.caseId}:1:ACCEPTANCE`)).toHaveLength(3);
    expect([...receiver.accepted.keys()].filter((k) => k === `haochaping:${a.caseId}:1:ACCEPTANCE`)).toHaveLength(1);
    const hubB = (await outbox(b.caseId)).find((r) => r.target === 'haochaping')!;
    expect(hubB).toMatchObject({ status: 'delivered', attempts: 1, duplicate: true });
  });

  it('after N failures a record is a dead letter, visible in the status; an admin retry delivers it', async () => {
    const s = await submitCase(deps, submitInput(itemCode), { principal: people.applicant, commandId: randomUUID() });
    receiver.script(`haochaping:${s.caseId}:1:`, [500, 500, 500, 500]);
    await run(s.caseId, { type: 'AcceptCase', data: {} });
    await waitUntil(async () => (await outbox(s.caseId)).some((r) => r.status === 'dead'), 30_000, 'a dead letter');
    const status = await exchangeStatus(db.pool);
    expect(status.find((t) => t.target === 'haochaping')).toMatchObject({ dead: 1 });
    expect(status.find((t) => t.target === 'haochaping')!.lastError).toContain('HTTP 500');
    expect(await retryDeadLetters(db.pool, 'haochaping')).toBe(1);
    await waitUntil(settled(s.caseId), 30_000, 'the retried dead letter');
    expect((await outbox(s.caseId)).every((r) => r.status === 'delivered')).toBe(true);
    expect((await exchangeStatus(db.pool)).find((t) => t.target === 'haochaping')).toMatchObject({ dead: 0, pending: 0 });
  });
});
