import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleCaseCommand, submitCase, type CaseDeps } from '../../application/cases.ts';
import { publishServiceItem } from '../../application/serviceItems.ts';
import { caseStreamId } from '../../domain/case/events.ts';
import { createCasesProjection } from '../../projections/cases/casesProjection.ts';
import { createDeadlineClock } from '../../projections/deadlineClock.ts';
import { createProjectionRunner, type ProjectionRunner } from '../../projections/runner.ts';
import { createTestDatabase } from '../support/db.ts';
import { itemInput, people, submitInput, testClock, writeSide } from '../support/app.ts';

describe('the deadline clock', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let deps: CaseDeps;
  let runner: ProjectionRunner;
  const clock = testClock('2026-09-28T09:00:00+08:00');
  let itemCode: string;

  const caughtUp = () => runner.waitFor('cases', async () => (await runner.status())[0]!.lag === 0, 10_000);
  const types = async (caseId: string) => (await deps.store.readStream(caseStreamId(caseId))).map((e) => e.type);
  const newAcceptedCase = async () => {
    const { caseId } = await submitCase(deps, submitInput(itemCode), { principal: people.applicant, commandId: randomUUID() });
    await handleCaseCommand(deps, caseId, { type: 'AcceptCase', data: {} }, { principal: people.clerk });
    return caseId;
  };

  beforeAll(async () => {
    db = await createTestDatabase('clock');
    deps = writeSide(db, clock);
    itemCode = itemInput().itemCode;
    await publishServiceItem(deps, itemInput(itemCode), { principal: people.admin });
    runner = createProjectionRunner({ pool: db.pool, store: db.newStore(), projections: [createCasesProjection({ blindIndex: (x) => x })], connectionString: db.connectionString, schema: db.schema });
    runner.start();
  });
  afterAll(async () => {
    await runner?.stop();
    await db?.drop();
  });

  it('raises the yellow card once in the warning zone, the red card once past the deadline — also with two clocks at once', async () => {
    clock.set('2026-09-28T09:00:00+08:00');
    const caseId = await newAcceptedCase(); // 10 working days: due 2026-10-16
    const a = createDeadlineClock({ pool: db.pool, deps, connectionString: db.connectionString, schema: db.schema });
    const b = createDeadlineClock({ pool: db.pool, deps: { ...deps, store: db.newStore() }, connectionString: db.connectionString, schema: db.schema });
    await caughtUp();
    expect((await a.tick()).warnings).toBe(0);
    clock.set('2026-10-14T09:00:00+08:00'); // 3 working days left (14, 15, 16): threshold is 2
    expect((await a.tick()).warnings).toBe(0);
    clock.set('2026-10-15T09:00:00+08:00'); // 2 left
    await Promise.all([a.tick(), b.tick()]);
    await caughtUp();
    await Promise.all([a.tick(), b.tick()]);
    expect((await types(caseId)).filter((t) => t === 'DeadlineWarningRaised')).toHaveLength(1);
    clock.set('2026-10-17T10:00:00+08:00'); // Saturday after the deadline
    const [ra, rb] = await Promise.all([a.tick(), b.tick()]);
    expect(ra.exceeded + rb.exceeded).toBeGreaterThanOrEqual(1);
    await caughtUp();
    clock.set('2026-10-19T10:00:00+08:00');
    await Promise.all([a.tick(), b.tick()]);
    const history = await types(caseId);
    expect(history.filter((t) => t === 'DeadlineExceeded')).toHaveLength(1);
    expect(history.filter((t) => t === 'DeadlineWarningRaised')).toHaveLength(1);
    const exceeded = (await deps.store.readStream(caseStreamId(caseId))).find((e) => e.type === 'DeadlineExceeded')!;
    expect(exceeded.metadata).toMatchObject({ actorId: 'govcase-deadline-clock', actorRole: 'system' });
  });

  it('expires corrections, flags bad ratings not rectified in time and 督办 notices not answered in time', async () => {
    clock.set('2026-11-02T09:00:00+08:00');
    const { caseId: correction } = await submitCase(deps, submitInput(itemCode), { principal: people.applicant, commandId: randomUUID() });
    await handleCaseCommand(deps, correction, { type: 'RequestCorrection', data: { missingMaterials: ['营业执照'], reason: '缺执照' } }, { principal: people.clerk });
    const noticed = await newAcceptedCase();
    const noticeId = randomUUID();
    await handleCaseCommand(deps, noticed, { type: 'IssueSupervisionNotice', data: { noticeId, content: '请说明', replyWithinWorkingDays: 2 } }, { principal: people.supervisor });
    const rated = await newAcceptedCase();
    for (const step of ['承办', '审核', '批准']) await handleCaseCommand(deps, rated, { type: 'CompleteReviewStep', data: { step, action: 'PASS', opinion: '同意' } }, { principal: people.reviewer });
    await handleCaseCommand(deps, rated, { type: 'DecideCase', data: { outcome: 'APPROVED' } }, { principal: people.reviewer });
    await handleCaseCommand(deps, rated, { type: 'EvaluateCase', data: { score: 1, comment: '太慢' } }, { principal: people.applicant });
    await caughtUp();
    const c = createDeadlineClock({ pool: db.pool, deps, connectionString: db.connectionString, schema: db.schema });
    clock.set('2026-11-10T09:00:00+08:00'); // past the 5-day correction and rectification limits and the 2-day reply date
    const report = await c.tick();
    expect(report).toMatchObject({ correctionsExpired: 1, rectificationsOverdue: 1, noticesOverdue: 1 });
    await caughtUp();
    const again = await c.tick();
    expect(again).toMatchObject({ correctionsExpired: 0, rectificationsOverdue: 0, noticesOverdue: 0 });
    expect(await types(correction)).toContain('CorrectionExpired');
    expect(await types(rated)).toContain('RectificationOverdue');
    expect(await types(noticed)).toContain('SupervisionNoticeOverdue');
  });
});
