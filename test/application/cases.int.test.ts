import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleCaseCommand, submitCase, type CaseDeps } from '../../application/cases.ts';
import { createServiceItemCache, publishServiceItem } from '../../application/serviceItems.ts';
import { caseStreamId } from '../../domain/case/events.ts';
import { isValidCaseNumber } from '../../domain/caseNumber.ts';
import { getPostgresCaseNumbers } from '../../infrastructure/postgres/caseNumbers.ts';
import { getPostgresEventStore } from '../../infrastructure/postgres/eventStore.ts';
import { createPool } from '../../infrastructure/postgres/pool.ts';
import { createTestDatabase } from '../support/db.ts';
import { itemInput, people, submitInput, testClock, writeSide } from '../support/app.ts';
import { codeOf } from '../support/codes.ts';


describe('command handling on PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let deps: CaseDeps;
  const clock = testClock('2026-09-28T09:00:00+08:00'); // Monday before National Day
  let itemCode: string;

  beforeAll(async () => {
    db = await createTestDatabase('cases');
    deps = writeSide(db, clock);
    itemCode = itemInput().itemCode;
    await publishServiceItem(deps, itemInput(itemCode), { principal: people.admin });
  });
  afterAll(async () => db?.drop());

  const newCase = async () => (await submitCase(deps, submitInput(itemCode), { principal: people.applicant, commandId: randomUUID() })).caseId;

  it('submits with a valid, unique case number and the item rules copied in', async () => {
    const a = await submitCase(deps, submitInput(itemCode), { principal: people.applicant, commandId: randomUUID() });
    const b = await submitCase(deps, submitInput(itemCode), { principal: people.clerk, commandId: randomUUID() });
    expect(a.state.status).toBe('SUBMITTED');
    if (a.state.status !== 'SUBMITTED' || b.state.status !== 'SUBMITTED') throw new Error('unreachable');
    expect(isValidCaseNumber(a.state.caseNumber)).toBe(true);
    expect(a.state.caseNumber.startsWith('520102-20260928-')).toBe(true);
    expect(a.state.caseNumber).not.toBe(b.state.caseNumber);
    expect(a.state.item.promisedLimitDays).toBe(10);
    expect(a.state.ownerId).toBe(people.applicant.id);
    expect(b.state.ownerId).toBeNull();
    expect(a.events[0]!.metadata).toMatchObject({ actorId: people.applicant.id, actorRole: 'applicant', occurredAt: '2026-09-28T01:00:00.000Z' });
  });

  it('a full lifecycle: accept, review steps, suspend across National Day, decide, deliver, rate', async () => {
    const id = await newCase();
    const run = (type: string, data: unknown, principal: (typeof people)[keyof typeof people]) =>
      handleCaseCommand(deps, id, { type, data } as never, { principal, commandId: randomUUID() });
    clock.set('2026-09-28T10:00:00+08:00');
    const accepted = await run('AcceptCase', {}, people.clerk);
    // 10 working days after Mon 9-28: 9-29, 9-30, 10-08, 10-09, 10-10 (make-up Sat), 10-12 … 10-16
    expect(accepted.events[0]!.data).toMatchObject({ acceptedOn: '2026-09-28', deadline: '2026-10-16' });
    await run('CompleteReviewStep', { step: '承办', action: 'PASS', opinion: '材料齐全' }, people.reviewer);
    clock.set('2026-09-30T10:00:00+08:00');
    await run('SuspendCase', { procedure: 'SITE_CHECK', reason: '实地核查', expectedWorkingDays: 3 }, people.reviewer);
    clock.set('2026-10-12T10:00:00+08:00');
    const resumed = await run('ResumeCase', { result: '核查通过' }, people.reviewer);
    // paused: 10-08, 10-09, 10-10, 10-12 → 4 working days; the deadline moves from 10-16 to 10-22
    expect(resumed.events[0]!.data).toMatchObject({ pausedWorkingDays: 4, deadline: '2026-10-22' });
    await run('CompleteReviewStep', { step: '审核', action: 'PASS', opinion: '同意' }, people.reviewer);
    await run('CompleteReviewStep', { step: '批准', action: 'PASS', opinion: '批准' }, people.reviewer);
    const decided = await run('DecideCase', { outcome: 'APPROVED', licenceNumber: 'JY15201020001234' }, people.reviewer);
    expect(decided.state.status).toBe('COMPLETED');
    expect(decided.events[0]!.data).toMatchObject({ onTime: true, deadline: '2026-10-22' });
    const delivered = await run('DeliverResult', { method: 'EXPRESS', trackingNumber: 'SF1234567890' }, people.clerk);
    expect(delivered.state.status).toBe('DELIVERED');
    const rated = await run('EvaluateCase', { score: 5, comment: '很满意' }, people.applicant);
    expect(rated.version).toBe(9);
    const history = await deps.store.readStream(caseStreamId(id));
    expect(history.map((e) => e.type)).toEqual([
      'CaseSubmitted', 'CaseAccepted', 'ReviewStepCompleted', 'CaseSuspended', 'CaseResumed', 'ReviewStepCompleted',
      'ReviewStepCompleted', 'CaseDecided', 'ResultDelivered', 'CaseEvaluated',
    ]);
  });

  it('refusals append nothing: FORBIDDEN, NOT_FOUND, VALIDATION_FAILED, INVALID_TRANSITION', async () => {
    const id = await newCase();
    expect(await codeOf(handleCaseCommand(deps, id, { type: 'AcceptCase', data: {} }, { principal: people.otherClerk }))).toBe('FORBIDDEN');
    expect(await codeOf(handleCaseCommand(deps, id, { type: 'AcceptCase', data: {} }, { principal: people.applicant }))).toBe('FORBIDDEN');
    expect(await codeOf(handleCaseCommand(deps, id, { type: 'WithdrawCase', data: { reason: 'x' } }, { principal: people.otherApplicant }))).toBe('FORBIDDEN');
    expect(await codeOf(handleCaseCommand(deps, randomUUID(), { type: 'AcceptCase', data: {} }, { principal: people.clerk }))).toBe('NOT_FOUND');
    expect(await codeOf(handleCaseCommand(deps, 'not-a-uuid', { type: 'AcceptCase', data: {} }, { principal: people.clerk }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(handleCaseCommand(deps, id, { type: 'RejectCase', data: { reason: '' } }, { principal: people.clerk }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(handleCaseCommand(deps, id, { type: 'RequestCorrection', data: { missingMaterials: [], reason: 'x' } }, { principal: people.clerk }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(handleCaseCommand(deps, id, { type: 'DecideCase', data: { outcome: 'APPROVED' } }, { principal: people.reviewer }))).toBe('INVALID_TRANSITION');
    expect(await codeOf(submitCase(deps, { ...submitInput(itemCode), channel: 'FAX' }, { principal: people.applicant }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(submitCase(deps, submitInput('NO-SUCH-ITEM'), { principal: people.applicant }))).toBe('NOT_FOUND');
    expect(await codeOf(submitCase(deps, submitInput(itemCode), { principal: people.otherClerk }))).toBe('FORBIDDEN');
    expect(await codeOf(publishServiceItem(deps, itemInput(), { principal: people.clerk }))).toBe('FORBIDDEN');
    expect(await codeOf(publishServiceItem(deps, { ...itemInput(), promisedLimitDays: 30 }, { principal: people.admin }))).toBe('VALIDATION_FAILED');
    expect((await deps.store.readStream(caseStreamId(id))).length).toBe(1);
  });

  it('validation errors name the field', async () => {
    const id = await newCase();
    try {
      await handleCaseCommand(deps, id, { type: 'CompleteReviewStep', data: { step: '承办', action: 'MAYBE', opinion: 'x' } }, { principal: people.reviewer });
      throw new Error('expected a refusal');
    } catch (err) {
      expect(err).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'action' } });
    }
  });

  it('idempotency: a repeated command returns the first result, even after the state moved on', async () => {
    const id = await newCase();
    const commandId = randomUUID();
    const first = await handleCaseCommand(deps, id, { type: 'AcceptCase', data: {} }, { principal: people.clerk, commandId });
    const again = await handleCaseCommand(deps, id, { type: 'AcceptCase', data: {} }, { principal: people.clerk, commandId });
    expect(again).toMatchObject({ duplicate: true, version: first.version, position: first.position, events: [] });
    expect(again.state.status).toBe('ACCEPTED');
    // someone else replaying the key learns nothing
    expect(await codeOf(handleCaseCommand(deps, id, { type: 'AcceptCase', data: {} }, { principal: { ...people.clerk, id: 'clerk-2' }, commandId }))).toBe('FORBIDDEN');
    expect((await deps.store.readStream(caseStreamId(id))).length).toBe(2);
  });

  it('idempotency: 20 racing copies of one command append once', async () => {
    const id = await newCase();
    const commandId = randomUUID();
    const other = { ...deps, store: db.newStore() };
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => handleCaseCommand(i % 2 ? other : deps, id, { type: 'AcceptCase', data: {} }, { principal: people.clerk, commandId })),
    );
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(new Set(results.map((r) => r.version))).toEqual(new Set([1]));
    expect((await deps.store.readStream(caseStreamId(id))).map((e) => e.type)).toEqual(['CaseSubmitted', 'CaseAccepted']);
  });

  it('a submission retried with its commandId files one case', async () => {
    const commandId = randomUUID();
    const results = await Promise.all(Array.from({ length: 5 }, () => submitCase(deps, submitInput(itemCode), { principal: people.applicant, commandId })));
    expect(new Set(results.map((r) => r.caseId)).size).toBe(1);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
  });

  it('a repeated no-op command answers with the first result, without a lookup beforehand', async () => {
    const id = await newCase();
    const commandId = randomUUID();
    const first = await handleCaseCommand(deps, id, { type: 'AcceptCase', data: {} }, { principal: people.clerk, commandId });
    // with the same expectedVersion the client sent the first time: the repeat, not a conflict
    const again = await handleCaseCommand(deps, id, { type: 'AcceptCase', data: {} }, { principal: people.clerk, commandId, expectedVersion: 0 });
    expect(again).toMatchObject({ duplicate: true, version: first.version, position: first.position });
    expect((await deps.store.readStream(caseStreamId(id))).length).toBe(2);
  });

  it('service items cached for submissions: a revision here is seen at once, one from elsewhere after the TTL', async () => {
    let now = 0;
    const items = createServiceItemCache(deps.store, { ttlMs: 1_000, now: () => now });
    const cached: CaseDeps = { ...deps, items };
    const code = itemInput().itemCode;
    await publishServiceItem(cached, itemInput(code), { principal: people.admin });
    const limitOf = async (d: CaseDeps) => {
      const r = await submitCase(d, submitInput(code), { principal: people.applicant, commandId: randomUUID() });
      return r.state.status === 'NONE' ? null : r.state.item.promisedLimitDays;
    };
    expect(await limitOf(cached)).toBe(10);
    // revised through the cached deps: forgotten, the next submission has the new rules
    await publishServiceItem(cached, { ...itemInput(code), promisedLimitDays: 8 }, { principal: people.admin });
    expect(await limitOf(cached)).toBe(8);
    // revised by another process (deps without this cache): seen once the entry is older than the TTL
    await publishServiceItem(deps, { ...itemInput(code), promisedLimitDays: 6 }, { principal: people.admin });
    expect(await limitOf(cached)).toBe(8);
    now += 1_001;
    expect(await limitOf(cached)).toBe(6);
    // an unknown item is NOT_FOUND through the cache too
    expect(await codeOf(submitCase(cached, submitInput('NO-SUCH-ITEM'), { principal: people.applicant }))).toBe('NOT_FOUND');
  });

  it('concurrency: 20 commands with the same expectedVersion, one succeeds, 19 CONCURRENCY_CONFLICT', async () => {
    const id = await newCase();
    await handleCaseCommand(deps, id, { type: 'AcceptCase', data: {} }, { principal: people.clerk });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        codeOf(handleCaseCommand(deps, id, { type: 'IssueSupervisionNotice', data: { noticeId: randomUUID(), content: `督办 ${i}`, replyWithinWorkingDays: 3 } }, { principal: people.supervisor, expectedVersion: 1 }))),
    );
    expect(results.filter((r) => r === 'OK')).toHaveLength(1);
    expect(results.filter((r) => r === 'CONCURRENCY_CONFLICT')).toHaveLength(19);
  });

  it('without expectedVersion, concurrent commands that all fit are retried and all land', async () => {
    const id = await newCase();
    await handleCaseCommand(deps, id, { type: 'AcceptCase', data: {} }, { principal: people.clerk });
    const other = { ...deps, store: db.newStore() };
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        handleCaseCommand(i % 2 ? other : deps, id, { type: 'IssueSupervisionNotice', data: { noticeId: randomUUID(), content: `督办 ${i}`, replyWithinWorkingDays: 3 } }, { principal: people.supervisor })),
    );
    expect(results.every((r) => r.events.length === 1)).toBe(true);
    const state = results.at(-1)!.state;
    expect((await deps.store.readStream(caseStreamId(id))).length).toBe(6);
    expect(state.status === 'NONE' ? 0 : state.notices.length).toBeGreaterThan(0);
  });

  it('a database that is down gives UNAVAILABLE quickly, not a hang', async () => {
    const url = 'postgres://postgres@127.0.0.1:1/none';
    const pool = createPool({ connectionString: url, connectionTimeoutMillis: 1_000 });
    const store = getPostgresEventStore({ pool, connectionString: url });
    const down: CaseDeps = { ...deps, store, caseNumbers: getPostgresCaseNumbers(pool) };
    const started = Date.now();
    expect(await codeOf(handleCaseCommand(down, randomUUID(), { type: 'AcceptCase', data: {} }, { principal: people.clerk }))).toBe('UNAVAILABLE');
    expect(await codeOf(store.appendToStream(`case-${randomUUID()}`, [{ type: 'X', data: {}, metadata: { actorId: 'a', actorRole: 'admin', occurredAt: new Date().toISOString() } }], { expectedVersion: 'no_stream' }))).toBe('UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(5_000);
    await store.close();
    await pool.end();
  });
});
