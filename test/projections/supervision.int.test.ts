import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleCaseCommand, type CaseDeps } from '../../application/cases.ts';
import type { RecordedEvent } from '../../application/eventStore.ts';
import { alertLevel, remainingWorkingDays, type AlertLevel } from '../../domain/case/deadline.ts';
import type { SupervisionNoticeAnswered, SupervisionNoticeIssued } from '../../domain/case/events.ts';
import type { ExistingCase } from '../../domain/case/state.ts';
import { canReadCase, type Principal } from '../../domain/permissions.ts';
import { regionCovers } from '../../domain/region.ts';
import { createCasesProjection } from '../../projections/cases/casesProjection.ts';
import { ALL_SCOPE, encodeCursor, type CaseScope, type Queryable } from '../../projections/cases/queries.ts';
import { tableNames } from '../../projections/projection.ts';
import { rebuildProjection } from '../../projections/rebuild.ts';
import { createProjectionRunner, type ProjectionRunner } from '../../projections/runner.ts';
import { searchSupervision, supervisionScopeFor, type SupervisionFilter } from '../../projections/supervision/queries.ts';
import { createSupervisionProjection } from '../../projections/supervision/supervisionProjection.ts';
import { testClock, writeSide } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';
import { publishItems, runCases, type ScenarioItem } from '../support/scenario.ts';

const blindIndex = (id: string) => `idx:${id}`;

interface OpenRow {
  case_id: string;
  status: string;
  department_code: string;
  region_code: string;
  owner_id: string | null;
  state: ExistingCase & { clock: { deadline: string } };
}

interface ExpectedNotice {
  id: string;
  content: string;
  issuedAt: string;
  replyBy: string;
  answer: string | null;
  answeredAt: string | null;
  onTime: boolean | null;
}

const levelOf = (r: OpenRow, today: string): AlertLevel => {
  const s = r.state;
  if (s.status !== 'ACCEPTED') return 'NORMAL';
  return alertLevel(today, s.clock.deadline, (s.clock.caseType === 'IMMEDIATE' ? 0 : s.clock.limitDays) + s.clock.extensionDays, s.item.warningThresholdPercent);
};

describe('supervision: notices read model and the open-cases list', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let deps: CaseDeps;
  let items: ScenarioItem[];
  let runner: ProjectionRunner;
  let open: OpenRow[];
  let log: RecordedEvent[];
  const expectedNotices = new Map<string, ExpectedNotice[]>();
  const clock = testClock('2026-01-05T09:00:00+08:00');
  const TODAY = '2026-01-14';

  const caughtUp = () => runner.waitFor('cases', async () => (await runner.status()).every((s) => s.lag === 0), 60_000);

  const readLog = async () => {
    const out: RecordedEvent[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await deps.store.readAll({ after, limit: 1000 });
      out.push(...page.events);
      if (!page.hasMore || page.events.length === 0) return out;
      after = page.lastPosition;
    }
  };

  const pageAll = async (filter: SupervisionFilter, scope: CaseScope, today = TODAY, first = 5) => {
    const entries = [];
    let after: string | null = null;
    let total: number | null = null;
    for (;;) {
      const page = await searchSupervision(db.pool, { filter, scope, first, after, today });
      total ??= page.totalCount;
      expect(page.totalCount).toBe(total);
      entries.push(...page.nodes);
      if (!page.hasNextPage) break;
      expect(page.nodes.length).toBe(first);
      after = page.endCursor;
    }
    expect(new Set(entries.map((e) => e.case.id)).size).toBe(entries.length);
    return { entries, total: total ?? 0 };
  };

  const expectMatches = async (filter: SupervisionFilter, predicate: (r: OpenRow) => boolean, scope: CaseScope = ALL_SCOPE, today = TODAY) => {
    const expected = open.filter(predicate);
    const got = await pageAll(filter, scope, today);
    expect(got.entries.map((e) => e.case.id)).toEqual(expected.map((r) => r.case_id));
    expect(got.total).toBe(expected.length);
    for (const [i, e] of got.entries.entries()) {
      const r = expected[i]!;
      expect(e.level).toBe(levelOf(r, today));
      expect(e.case.alertLevel).toBe(e.level);
      expect(e.deadline).toBe(r.state.clock.deadline);
      expect(e.remainingWorkingDays).toBe(r.status === 'ACCEPTED' ? remainingWorkingDays(today, r.state.clock.deadline) : null);
      expect(e.notices).toEqual(expectedNotices.get(r.case_id) ?? []);
    }
    return expected.length;
  };

  beforeAll(async () => {
    db = await createTestDatabase('supervision');
    deps = writeSide(db, clock);
    items = await publishItems(deps, 'S');
    runner = createProjectionRunner({
      pool: db.pool, store: db.newStore(), connectionString: db.connectionString, schema: db.schema,
      projections: [createCasesProjection({ blindIndex }), createSupervisionProjection()],
    });
    runner.start();
    await runCases(deps, items, 150, 41, 8);
    clock.advanceDays(3);
    await runCases(deps, items, 150, 42, 8);
    expect(await caughtUp()).toBe(true);

    // 督办: notices on a third of the open cases (two on some); the departments answer half of them a day later
    const supervisor: Principal = { id: 'sup', roles: ['supervisor'], regionCode: '520000' };
    const openNow = (await db.pool.query<OpenRow>(`select case_id, status, department_code, region_code, owner_id, state from cases where status in ('ACCEPTED', 'SUSPENDED') order by case_id`)).rows;
    const issued: { caseId: string; noticeId: string; clerk: Principal }[] = [];
    for (const [i, r] of openNow.entries()) {
      if (i % 3 !== 0) continue;
      const clerk: Principal = { id: 'clerk', roles: ['clerk'], departmentCode: r.department_code, regionCode: r.region_code };
      for (let k = 0; k < (i % 2 === 0 ? 2 : 1); k++) {
        const noticeId = randomUUID();
        await handleCaseCommand(deps, r.case_id, { type: 'IssueSupervisionNotice', data: { noticeId, content: `督办 ${i}-${k}`, replyWithinWorkingDays: 3 } }, { principal: supervisor, commandId: randomUUID() });
        issued.push({ caseId: r.case_id, noticeId, clerk });
      }
    }
    clock.advanceDays(1);
    for (const [i, n] of issued.entries())
      if (i % 2 === 0) await handleCaseCommand(deps, n.caseId, { type: 'AnswerSupervisionNotice', data: { noticeId: n.noticeId, answer: `已办理 ${i}` } }, { principal: n.clerk, commandId: randomUUID() });
    expect(await caughtUp()).toBe(true);

    // expectations straight from the log, not from the read model
    log = await readLog();
    for (const e of log) {
      if (e.type === 'SupervisionNoticeIssued') {
        const d = e.data as SupervisionNoticeIssued['data'];
        const caseId = e.streamId.slice(5);
        const list = expectedNotices.get(caseId) ?? [];
        list.push({ id: d.noticeId, content: d.content, issuedAt: new Date(e.metadata.occurredAt).toISOString(), replyBy: d.replyBy, answer: null, answeredAt: null, onTime: null });
        expectedNotices.set(caseId, list);
      } else if (e.type === 'SupervisionNoticeAnswered') {
        const d = e.data as SupervisionNoticeAnswered['data'];
        const n = expectedNotices.get(e.streamId.slice(5))!.find((x) => x.id === d.noticeId)!;
        Object.assign(n, { answer: d.answer, answeredAt: new Date(e.metadata.occurredAt).toISOString(), onTime: d.onTime });
      }
    }
    for (const list of expectedNotices.values()) list.sort((a, b) => (a.issuedAt === b.issuedAt ? (a.id < b.id ? -1 : 1) : a.issuedAt < b.issuedAt ? -1 : 1));
    open = (await db.pool.query<OpenRow>(`select case_id, status, department_code, region_code, owner_id, state from cases where status in ('ACCEPTED', 'SUSPENDED')`)).rows
      .sort((a, b) => (a.state.clock.deadline === b.state.clock.deadline ? (a.case_id < b.case_id ? -1 : 1) : a.state.clock.deadline < b.state.clock.deadline ? -1 : 1));
  }, 180_000);

  afterAll(async () => {
    await runner?.stop();
    await db?.drop();
  });

  it('lists every open case once, soonest deadline first, with its notices and their answers', async () => {
    expect(open.length).toBeGreaterThan(25);
    expect(open.some((r) => r.status === 'SUSPENDED')).toBe(true);
    const answered = [...expectedNotices.values()].flat().filter((n) => n.answer !== null);
    expect(answered.length).toBeGreaterThan(5);
    expect([...expectedNotices.values()].some((l) => l.length >= 2)).toBe(true);
    expect(await expectMatches({}, () => true)).toBe(open.length);
    const deadlines = new Set(open.map((r) => r.state.clock.deadline));
    expect(deadlines.size).toBeGreaterThan(3);
    expect(deadlines.size).toBeLessThan(open.length); // ties on the deadline: the case id breaks them
  });

  it('filters by region prefix, department and level; levels move with today', async () => {
    await expectMatches({ regionCode: '520100' }, (r) => regionCovers('520100', r.region_code));
    await expectMatches({ regionCode: '520302' }, (r) => r.region_code === '520302');
    const dept = open[0]!.department_code;
    await expectMatches({ departmentCode: dept }, (r) => r.department_code === dept);
    const seen: Record<AlertLevel, number> = { NORMAL: 0, WARNING: 0, OVERDUE: 0 };
    for (const today of ['2026-01-08', '2026-01-13', TODAY, '2026-01-16', '2026-01-20']) // deadlines fall on Jan 12, 13, 15, 16
      for (const level of ['NORMAL', 'WARNING', 'OVERDUE'] as const)
        seen[level] += await expectMatches({ level }, (r) => levelOf(r, today) === level, ALL_SCOPE, today);
    expect(seen).toMatchObject({ NORMAL: expect.any(Number) });
    expect(seen.WARNING).toBeGreaterThan(0);
    expect(seen.OVERDUE).toBeGreaterThan(0);
    await expectMatches({ regionCode: '520100', level: 'OVERDUE' }, (r) => regionCovers('520100', r.region_code) && levelOf(r, TODAY) === 'OVERDUE');
  });

  it('scopes: a supervisor sees their region, a clerk their department, an applicant nothing here', async () => {
    const target = (r: OpenRow) => ({ ownerId: r.owner_id, departmentCode: r.department_code, regionCode: r.region_code });
    const principals: Principal[] = [
      { id: 'sup', roles: ['supervisor'], regionCode: '520100' },
      { id: 'sup2', roles: ['supervisor'], regionCode: '520402' },
      { id: 'clerk', roles: ['clerk'], departmentCode: open[1]!.department_code },
      { id: 'auditor', roles: ['auditor'] },
    ];
    for (const p of principals) expect(await expectMatches({}, (r) => canReadCase(p, target(r)), supervisionScopeFor(p)), p.id).toBeGreaterThan(0);
    const owner = open.find((r) => r.owner_id !== null)!.owner_id!;
    expect((await pageAll({}, supervisionScopeFor({ id: owner, roles: ['applicant'] }))).total).toBe(0);
  });

  it('no N+1: a page costs the same three statements whatever its size', async () => {
    let calls = 0;
    const counting: Queryable = {
      query: ((...args: Parameters<pg.Pool['query']>) => {
        calls++;
        return (db.pool.query as (...a: unknown[]) => unknown)(...args);
      }) as pg.Pool['query'],
    };
    for (const first of [1, 5, 50, 100]) {
      calls = 0;
      const page = await searchSupervision(counting, { scope: ALL_SCOPE, first, today: TODAY });
      expect(page.nodes.length).toBe(Math.min(first, open.length));
      if (first >= 50) expect(page.nodes.some((n) => n.notices.length > 0)).toBe(true);
      expect(calls, `first: ${first}`).toBe(3);
    }
    calls = 0;
    const uncounted = await searchSupervision(counting, { scope: ALL_SCOPE, first: 50, today: TODAY, count: 'skip' });
    expect(uncounted.totalCount).toBeNull();
    expect(calls).toBe(2);
    expect((await searchSupervision(db.pool, { scope: ALL_SCOPE, first: 5, today: TODAY, count: { atMost: 3 } })).totalCount).toBe(3);
    calls = 0;
    const empty = await searchSupervision(counting, { filter: { regionCode: '510000' }, scope: ALL_SCOPE, first: 50, today: TODAY });
    expect(empty.totalCount).toBe(0);
    expect(calls).toBe(2);
  });

  it('bad input is VALIDATION_FAILED', async () => {
    const base = { scope: ALL_SCOPE, first: 5, today: TODAY };
    for (const after of ['nope!', encodeCursor('c1', ['2026-01-05T01:00:00.000000Z', open[0]!.case_id]), encodeCursor('s1', ['2026-02-31', open[0]!.case_id]), encodeCursor('s1', ['2026-01-05', 'not-a-uuid'])])
      await expect(searchSupervision(db.pool, { ...base, after })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'after' } });
    await expect(searchSupervision(db.pool, { ...base, first: 201 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'first' } });
    await expect(searchSupervision(db.pool, { ...base, first: 0 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'first' } });
    await expect(searchSupervision(db.pool, { ...base, filter: { regionCode: '52' } })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'filter.regionCode' } });
    await expect(searchSupervision(db.pool, { ...base, filter: { level: 'RED' as AlertLevel } })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'filter.level' } });
  });

  it('the projection is idempotent on replays and equals a rebuild', async () => {
    const snapshot = async (table: string) =>
      (await db.pool.query(`select notice_id, case_id, content, issued_at, reply_by::text, answer, answered_at, on_time from ${table} order by notice_id`)).rows;
    const live = await snapshot('supervision_notices');
    expect(live.length).toBe([...expectedNotices.values()].flat().length);
    const projection = createSupervisionProjection();
    const t = tableNames('replay');
    const wanted = log.filter((e) => projection.eventTypes!.includes(e.type));
    const client = await db.pool.connect();
    try {
      await projection.createTables(client, t);
      // all at once, then again in overlapping pages (a crashed batch replayed), then the whole log again
      await projection.apply(client, wanted, t);
      for (let i = 0; i < wanted.length; i += 7) await projection.apply(client, wanted.slice(Math.max(0, i - 3), i + 7), t);
      await projection.apply(client, wanted, t);
      // an issue replayed alone after its answer keeps the answer
      await projection.apply(client, wanted.filter((e) => e.type === 'SupervisionNoticeIssued'), t);
    } finally {
      client.release();
    }
    expect(await snapshot(t('supervision_notices'))).toEqual(live);
    await rebuildProjection({ pool: db.pool, store: db.newStore(), projection, schema: db.schema, switchOver: false });
    expect(await snapshot('supervision_notices__rebuild')).toEqual(live);
  });
});
