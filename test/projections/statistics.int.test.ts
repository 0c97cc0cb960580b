import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleCaseCommand, type CaseCommandInput, type CaseDeps } from '../../application/cases.ts';
import { loadCase } from '../../application/caseStream.ts';
import type { RecordedEvent } from '../../application/eventStore.ts';
import type { CaseEvent } from '../../domain/case/events.ts';
import { evolve, initialCaseState, type CaseState } from '../../domain/case/state.ts';
import type { Principal } from '../../domain/permissions.ts';
import { rebuildProjection } from '../../projections/rebuild.ts';
import { createProjectionRunner, type ProjectionRunner } from '../../projections/runner.ts';
import { queryStatistics, type Statistics, type StatisticsFilter, type StatisticsScope } from '../../projections/statistics/queries.ts';
import { createStatisticsProjection } from '../../projections/statistics/statisticsProjection.ts';
import { testClock, writeSide } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';
import { publishItems, rng, runCases, type ScenarioItem } from '../support/scenario.ts';

/**
 * The statistics read model against a brute force over the raw log. The brute force below is
 * written from domain.md and the brief, not from the projection: it folds each case with the write
 * side's `evolve` to know where the case stands, and counts events by type.
 */

// ---------- the brute force -------------------------------------------------------------------

/** CST (UTC+8, no DST) calendar day of an instant. */
const cstDay = (iso: string) => new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 10);

/** GB/T 2260 coverage, written out: 52 0000 → province, 52 01 00 → prefecture, else the county itself. */
const covers = (scope: string, region: string) =>
  scope.slice(2) === '0000' ? region.slice(0, 2) === scope.slice(0, 2)
    : scope.slice(4) === '00' ? region.slice(0, 4) === scope.slice(0, 4)
      : region === scope;

interface Fact {
  readonly day: string;
  readonly region: string;
  readonly dept: string;
  readonly item: string;
  readonly event: CaseEvent;
}

interface World {
  /** every case event, with where and when it counts */
  readonly facts: Fact[];
  /** every case as it stands at the end */
  readonly cases: Map<string, Exclude<CaseState, { status: 'NONE' }>>;
  /** latest names from CaseSubmitted */
  readonly names: { dept: Map<string, string>; item: Map<string, string> };
}

const readWorld = async (deps: CaseDeps): Promise<World> => {
  const states = new Map<string, CaseState>();
  const facts: Fact[] = [];
  const names = { dept: new Map<string, string>(), item: new Map<string, string>() };
  let after: string | null = null;
  for (;;) {
    const page = await deps.store.readAll({ after, limit: 5_000 });
    for (const e of page.events) {
      if (!e.streamId.startsWith('case-')) continue;
      const id = e.streamId.slice(5);
      const before = states.get(id) ?? initialCaseState();
      const event = { type: e.type, data: e.data } as CaseEvent;
      if (event.type === 'CaseSubmitted') {
        names.dept.set(event.data.item.departmentCode, event.data.item.departmentName);
        names.item.set(event.data.item.itemCode, event.data.item.name);
        facts.push({ day: cstDay(e.metadata.occurredAt), region: event.data.regionCode, dept: event.data.departmentCode, item: event.data.item.itemCode, event });
      } else if (before.status !== 'NONE') {
        facts.push({ day: cstDay(e.metadata.occurredAt), region: before.regionCode, dept: before.departmentCode, item: before.item.itemCode, event });
      }
      states.set(id, evolve(before, event, e.metadata.occurredAt));
    }
    after = page.lastPosition;
    if (!page.hasMore) break;
  }
  const cases = new Map<string, Exclude<CaseState, { status: 'NONE' }>>();
  for (const [id, s] of states) if (s.status !== 'NONE') cases.set(id, s);
  return { facts, cases, names };
};

const COUNTED = new Set(['CaseSubmitted', 'CaseAccepted', 'CaseRejected', 'CaseWithdrawn', 'CorrectionExpired', 'CaseDecided', 'DeadlineExceeded', 'CaseEvaluated', 'RectificationCompleted']);

const bruteForce = (world: World, filter: StatisticsFilter, scope: StatisticsScope): Statistics => {
  const where = (region: string, dept: string, item: string) =>
    (!filter.regionCode || covers(filter.regionCode, region)) &&
    (!filter.departmentCode || filter.departmentCode === dept) &&
    (!filter.itemCode || filter.itemCode === item) &&
    (scope === 'all' || ((scope.regionCode !== undefined || scope.departmentCode !== undefined) &&
      (!scope.regionCode || covers(scope.regionCode, region)) && (!scope.departmentCode || scope.departmentCode === dept)));
  const facts = world.facts.filter((f) =>
    COUNTED.has(f.event.type) && where(f.region, f.dept, f.item) &&
    (!filter.from || f.day >= filter.from) && (!filter.to || f.day <= filter.to));
  const of = <T extends CaseEvent['type']>(type: T) => facts.filter((f) => f.event.type === type) as (Fact & { event: Extract<CaseEvent, { type: T }> })[];
  const decided = of('CaseDecided');
  const rated = of('CaseEvaluated');
  const rate = (a: number, b: number) => (b === 0 ? null : a / b);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

  const groups = (keyOf: (f: Fact) => string, names: Map<string, string>) => {
    const keys = [...new Set(facts.map(keyOf))].sort();
    return keys.map((key) => {
      const fs = facts.filter((f) => keyOf(f) === key);
      const done = fs.filter((f) => f.event.type === 'CaseDecided') as (Fact & { event: Extract<CaseEvent, { type: 'CaseDecided' }> })[];
      return {
        key, name: names.get(key) ?? null,
        submitted: fs.filter((f) => f.event.type === 'CaseSubmitted').length,
        completed: done.length,
        onTimeRate: rate(done.filter((f) => f.event.data.onTime).length, done.length),
      };
    });
  };

  const days = facts.filter((f) => f.event.type === 'CaseSubmitted' || f.event.type === 'CaseDecided').map((f) => f.day).sort();
  const first = filter.from ?? days[0];
  const last = filter.to ?? days.at(-1);
  const byDay: Statistics['byDay'][number][] = [];
  if (first && last) {
    for (let t = Date.parse(`${first}T00:00:00Z`); t <= Date.parse(`${last}T00:00:00Z`); t += 86_400_000) {
      const date = new Date(t).toISOString().slice(0, 10);
      const fs = facts.filter((f) => f.day === date);
      byDay.push({ date, submitted: fs.filter((f) => f.event.type === 'CaseSubmitted').length, completed: fs.filter((f) => f.event.type === 'CaseDecided').length });
    }
  }

  const now = [...world.cases.values()].filter((s) => where(s.regionCode, s.departmentCode, s.item.itemCode));
  return {
    submitted: of('CaseSubmitted').length,
    accepted: of('CaseAccepted').length,
    rejected: of('CaseRejected').length,
    withdrawn: of('CaseWithdrawn').length,
    inProgress: now.filter((s) => s.status === 'ACCEPTED').length,
    suspended: now.filter((s) => s.status === 'SUSPENDED').length,
    completed: decided.length,
    approved: decided.filter((f) => f.event.data.outcome === 'APPROVED').length,
    denied: decided.filter((f) => f.event.data.outcome === 'DENIED').length,
    completedOnTime: decided.filter((f) => f.event.data.onTime).length,
    overdue: of('DeadlineExceeded').length,
    onTimeRate: rate(decided.filter((f) => f.event.data.onTime).length, decided.length),
    averageWorkingDays: rate(sum(decided.map((f) => f.event.data.workingDaysUsed)), decided.length),
    evaluations: rated.length,
    averageScore: rate(sum(rated.map((f) => f.event.data.score)), rated.length),
    satisfactionRate: rate(rated.filter((f) => f.event.data.score >= 4).length, rated.length),
    badReviews: rated.filter((f) => f.event.data.score <= 2).length,
    badReviewsRectified: of('RectificationCompleted').length,
    byDay,
    byDepartment: groups((f) => f.dept, world.names.dept),
    byItem: groups((f) => f.item, world.names.item),
  };
};

// ---------- the scenario ----------------------------------------------------------------------

/**
 * Batch days (CST). Spring Festival 2026 is Feb 15–23 (Feb 14 a make-up working day), Qingming Apr 4–6.
 * 00:20 CST is the previous day in UTC; 23:40 CST the same day as UTC 15:40.
 */
const BATCHES = [
  '2026-01-05T09:00:00+08:00',
  '2026-01-20T16:00:00+08:00',
  '2026-02-06T00:20:00+08:00',
  '2026-02-13T23:40:00+08:00',
  '2026-02-14T10:00:00+08:00',
  '2026-02-17T10:00:00+08:00',
  '2026-02-24T00:10:00+08:00',
  '2026-03-10T09:00:00+08:00',
  '2026-04-03T15:00:00+08:00',
  '2026-04-05T11:00:00+08:00',
  '2026-04-20T09:00:00+08:00',
];
const PER_BATCH = 260;
const system: Principal = { id: 'deadline-clock', roles: ['system'] };

describe('statistics projection against a brute force over the log', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let deps: CaseDeps;
  let items: ScenarioItem[];
  let runner: ProjectionRunner | undefined;
  let world: World;
  const clock = testClock(BATCHES[0]!);

  /** Later-day actions on earlier cases: transfers, red cards, decisions, deliveries, ratings, expiries. */
  const followUp = async (caseId: string, random: () => number) => {
    const { state: s } = await loadCase(deps.store, caseId);
    if (s.status === 'NONE') return;
    const today = cstDay(clock.now().toISOString());
    const staff = (role: 'clerk' | 'reviewer'): Principal => ({ id: `${role}-${s.departmentCode}`, roles: [role], departmentCode: s.departmentCode, regionCode: s.regionCode });
    const owner: Principal | null = s.ownerId ? { id: s.ownerId, roles: ['applicant'] } : null;
    const run = (input: CaseCommandInput, principal: Principal) => handleCaseCommand(deps, caseId, input, { principal, commandId: randomUUID() });
    const r = random();
    switch (s.status) {
      case 'CORRECTION_REQUESTED':
        if (today > s.correction.deadline) await run({ type: 'ExpireCorrection', data: {} }, system);
        break;
      case 'ACCEPTED': {
        if (today > s.clock.deadline && !s.clock.exceededRaised && r < 0.7) await run({ type: 'MarkDeadlineExceeded', data: {} }, system);
        if (r < 0.25) {
          const others = items.filter((i) => i.regionCode === s.regionCode && i.departmentCode !== s.departmentCode).map((i) => i.departmentCode);
          const to = r < 0.05 ? `${s.regionCode}-OFFICE` : others[Math.floor(random() * others.length)] ?? `${s.regionCode}-OFFICE`;
          if (to !== s.departmentCode) await run({ type: 'TransferCase', data: { toDepartmentCode: to, reason: '职能调整' } }, staff('reviewer'));
        } else if (r < 0.75) {
          for (const step of s.item.steps.slice(s.stepIndex)) await run({ type: 'CompleteReviewStep', data: { step, action: 'PASS', opinion: '同意' } }, staff('reviewer'));
          await run({ type: 'DecideCase', data: r < 0.35 ? { outcome: 'DENIED', reason: '不符合' } : { outcome: 'APPROVED', licenceNumber: `L-${caseId.slice(0, 8)}` } }, staff('reviewer'));
        } else if (r < 0.85 && s.stepIndex === 0) {
          await run({ type: 'SuspendCase', data: { procedure: 'SITE_CHECK', reason: '实地核查', expectedWorkingDays: 3 } }, staff('reviewer'));
        }
        break;
      }
      case 'SUSPENDED':
        if (r < 0.6) await run({ type: 'ResumeCase', data: { result: '核查通过' } }, staff('reviewer'));
        break;
      case 'COMPLETED':
        if (r < 0.5) await run({ type: 'DeliverResult', data: { method: 'ELECTRONIC' } }, staff('clerk'));
        else if (r < 0.8 && owner && !s.evaluation) await run({ type: 'EvaluateCase', data: { score: 1 + Math.floor(random() * 5) } }, owner);
        break;
      case 'DELIVERED':
      case 'REJECTED':
        if (!s.evaluation && owner && r < 0.4) await run({ type: 'EvaluateCase', data: { score: 1 + Math.floor(random() * 5) } }, owner);
        else if (s.evaluation?.bad && !s.evaluation.rectifiedAt && r < 0.6) await run({ type: 'CompleteRectification', data: { reason: '已整改' } }, staff('clerk'));
        break;
      default:
        break;
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase('proj_stats');
    deps = writeSide(db, clock);
    // two items per department, so a department and an item are different filters
    items = [...(await publishItems(deps, 'S')), ...(await publishItems(deps, 'T'))];
    // the runner projects while the cases are written, in small pages (cases span many pages)
    runner = createProjectionRunner({
      pool: db.pool, store: db.newStore(), projections: [createStatisticsProjection()], connectionString: db.connectionString,
      schema: db.schema, batchSize: 173,
    });
    runner.start();
    const random = rng(2026);
    const earlier: string[] = [];
    for (const [i, at] of BATCHES.entries()) {
      clock.set(at);
      const todo = earlier.filter(() => random() < 0.5);
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < todo.length) await followUp(todo[next++]!, random);
      }));
      earlier.push(...(await runCases(deps, items, PER_BATCH, 100 + i, 8)));
    }
    const caught = await runner.waitFor('statistics', async () => (await runner!.status())[0]!.lag === 0, 60_000);
    expect(caught).toBe(true);
    world = await readWorld(deps);
  }, 600_000);

  afterAll(async () => {
    await runner?.stop();
    await db?.drop();
  });

  const scenarios: [string, StatisticsFilter, StatisticsScope][] = [
    ['whole province', { regionCode: '520000' }, 'all'],
    ['no filter at all', {}, 'all'],
    ['a prefecture', { regionCode: '520100' }, 'all'],
    ['one county', { regionCode: '520302' }, 'all'],
    ['one department', { departmentCode: '520102-MARKET' }, 'all'],
    ['a department that only receives transfers', { departmentCode: '520103-OFFICE' }, 'all'],
    ['one item', { itemCode: 'T-520111-HOUSING' }, 'all'],
    ['a date range across the Spring Festival', { regionCode: '520000', from: '2026-02-10', to: '2026-02-28' }, 'all'],
    ['one day that starts at 00:20 CST', { from: '2026-02-06', to: '2026-02-06' }, 'all'],
    ['a range with an open end', { from: '2026-04-01' }, 'all'],
    ['a range before any data', { from: '2025-12-01', to: '2025-12-31' }, 'all'],
    ['whole months (the monthly rollup)', { regionCode: '520100', from: '2026-01-01', to: '2026-03-31' }, 'all'],
    ['edge days, whole months, edge days', { from: '2026-01-15', to: '2026-04-10' }, 'all'],
    ['the whole year (the yearly rollup)', { from: '2026-01-01', to: '2026-12-31' }, 'all'],
    ['a year and a bit, one item', { itemCode: 'S-520102-MARKET', from: '2025-12-20', to: '2026-12-31' }, 'all'],
    ['an open start, a department', { departmentCode: '520302-HOUSING', to: '2026-02-17' }, 'all'],
    ['a supervisor of a prefecture asking for the province', { regionCode: '520000' }, { regionCode: '520100' }],
    ['a supervisor of a prefecture asking for another prefecture', { regionCode: '520300' }, { regionCode: '520100' }],
    ['a department scope over a date range', { from: '2026-02-01', to: '2026-03-31' }, { departmentCode: '520111-TRANSPORT' }],
    ['a department scope asking for another department', { departmentCode: '520102-MARKET' }, { departmentCode: '520103-MARKET' }],
    ['a scope of region and department', { itemCode: 'S-520402-HOUSING' }, { regionCode: '520400', departmentCode: '520402-HOUSING' }],
    ['a scope that names nothing', {}, {}],
  ];

  it('the generated history is rich enough to mean something', () => {
    const types = new Map<string, number>();
    for (const f of world.facts) types.set(f.event.type, (types.get(f.event.type) ?? 0) + 1);
    expect(world.cases.size).toBe(BATCHES.length * PER_BATCH);
    for (const t of ['CaseSubmitted', 'CaseAccepted', 'CaseRejected', 'CaseWithdrawn', 'CorrectionExpired', 'CaseDecided', 'DeadlineExceeded', 'CaseEvaluated', 'RectificationCompleted', 'CaseTransferred', 'CaseSuspended', 'CaseResumed'])
      expect(types.get(t) ?? 0, t).toBeGreaterThan(5);
    // decisions on other days than submission, some late, some after a transfer
    const decided = world.facts.filter((f) => f.event.type === 'CaseDecided') as (Fact & { event: Extract<CaseEvent, { type: 'CaseDecided' }> })[];
    expect(decided.filter((f) => !f.event.data.onTime).length).toBeGreaterThan(5);
    // one CST day per batch; 00:20 CST on 02-06 is 02-05 in UTC and must count on 02-06
    expect([...new Set(world.facts.map((f) => f.day))].sort()).toEqual(BATCHES.map((b) => b.slice(0, 10)));
  });

  it.each(scenarios)('%s: every figure equals the brute force', async (_name, filter, scope) => {
    const got = await queryStatistics(db.pool, filter, scope);
    expect(got).toEqual(bruteForce(world, filter, scope));
  });

  it('sanity: the scenarios are not all trivial', async () => {
    const province = await queryStatistics(db.pool, { regionCode: '520000' }, 'all');
    expect(province.submitted).toBe(BATCHES.length * PER_BATCH);
    expect(province.inProgress).toBeGreaterThan(0);
    expect(province.suspended).toBeGreaterThan(0);
    expect(province.byDepartment.some((g) => g.name === null)).toBe(true); // *-OFFICE only receives transfers
    const festival = await queryStatistics(db.pool, { from: '2026-02-15', to: '2026-02-23' }, 'all');
    expect(festival.byDay).toHaveLength(9);
    expect(festival.byDay.find((d) => d.date === '2026-02-17')!.submitted).toBe(PER_BATCH);
    // lists not asked for are not computed; the rest is the same
    const lean = await queryStatistics(db.pool, { regionCode: '520000' }, 'all', { byItem: false, byDay: false });
    expect(lean).toEqual({ ...province, byItem: [], byDay: [] });
    expect(await queryStatistics(db.pool, { regionCode: '520000' }, 'all', { byDepartment: false })).toEqual({ ...province, byDepartment: [] });
    const nothing = await queryStatistics(db.pool, {}, {});
    expect(nothing).toMatchObject({ submitted: 0, onTimeRate: null, averageScore: null, byDay: [], byDepartment: [] });
  });

  it('a rebuild from zero builds the same tables, and after the switch-over the figures still hold', async () => {
    const projection = createStatisticsProjection();
    await rebuildProjection({ pool: db.pool, store: db.newStore(), projection, schema: db.schema, switchOver: false, batchSize: 2_000 });
    const rows = async (sql: string) => (await db.pool.query(sql)).rows;
    for (const [table, order] of [['stats_daily', 'day, region_code, department_code, item_code'], ['stats_monthly', 'month, region_code, department_code, item_code'],
      ['stats_yearly', 'year, region_code, department_code, item_code'], ['stats_day_region', 'day, region_code'],
      ['stats_current', 'status, region_code, department_code, item_code'], ['stats_case_dims', 'case_id'], ['stats_names', 'kind, key']] as const)
      expect(await rows(`select * from ${table}__rebuild order by ${order}`), table).toEqual(await rows(`select * from ${table} order by ${order}`));
    expect(await rows('select * from stats_current where n <= 0')).toEqual([]);
    // the rollups hold exactly the sums of the daily rows
    expect(await rows(`select date_trunc('month', day)::date::text as month, region_code, department_code, item_code, sum(submitted)::int as s, sum(score_sum)::int as q
                         from stats_daily group by 1, 2, 3, 4 order by 1, 2, 3, 4`))
      .toEqual(await rows(`select month::text, region_code, department_code, item_code, submitted as s, score_sum as q from stats_monthly order by 1, 2, 3, 4`));
    expect(await rows(`select day::text, region_code, sum(submitted)::int as s, sum(completed)::int as c from stats_daily group by 1, 2
                         having sum(submitted) > 0 or sum(completed) > 0 order by 1, 2`))
      .toEqual(await rows('select day::text, region_code, submitted as s, completed as c from stats_day_region order by 1, 2'));
    await runner?.stop();
    runner = undefined;
    const done = await rebuildProjection({ pool: db.pool, store: db.newStore(), projection, schema: db.schema, batchSize: 2_000 });
    expect(done.phase).toBe('done');
    for (const [, filter, scope] of scenarios) expect(await queryStatistics(db.pool, filter, scope)).toEqual(bruteForce(world, filter, scope));
  });

  it('a page applied twice changes nothing (each case remembers the last revision applied)', async () => {
    const projection = createStatisticsProjection();
    const page = await deps.store.readAll({ limit: 3_000 });
    const before = (await db.pool.query('select sum(submitted)::int as s, sum(completed)::int as c, sum(evaluations)::int as e from stats_daily')).rows[0];
    const client = await db.pool.connect();
    try {
      await client.query('begin');
      await projection.apply(client, page.events.filter((e: RecordedEvent) => projection.eventTypes!.includes(e.type)), (b) => b);
      const after = (await client.query('select sum(submitted)::int as s, sum(completed)::int as c, sum(evaluations)::int as e from stats_daily')).rows[0];
      expect(after).toEqual(before);
      await client.query('rollback');
    } finally {
      client.release();
    }
  });

  it('names come from a cache that is read again as soon as the projection changed a name', async () => {
    const projection = createStatisticsProjection();
    const itemCode = 'S-520102-MARKET';
    const original = (await deps.store.readAll({ limit: 5_000 })).events
      .find((e) => e.type === 'CaseSubmitted' && (e.data as { item: { itemCode: string } }).item.itemCode === itemCode)!;
    const data = original.data as { caseId: string; item: { name: string; departmentCode: string; departmentName: string } };
    const client = await db.pool.connect();
    try {
      await client.query('begin');
      const before = await queryStatistics(client, { itemCode }, 'all');
      expect(before.byItem.map((g) => g.name)).toEqual([data.item.name]);
      expect(await queryStatistics(client, { itemCode }, 'all')).toEqual(before); // from the cache
      // a new case whose item snapshot renames the item and its department, applied as the runner would
      const caseId = randomUUID();
      const renamed: RecordedEvent = {
        ...original, id: randomUUID(), streamId: `case-${caseId}`, revision: 0,
        data: { ...(original.data as Record<string, unknown>), caseId, item: { ...data.item, name: '改名后的事项', departmentName: '改名后的部门' } },
      };
      await projection.apply(client, [renamed], (base) => base);
      const after = await queryStatistics(client, { itemCode }, 'all');
      expect(after.submitted).toBe(before.submitted + 1);
      expect(after.byItem.map((g) => g.name)).toEqual(['改名后的事项']);
      expect(after.byDepartment.find((g) => g.key === data.item.departmentCode)?.name).toBe('改名后的部门');
    } finally {
      await client.query('rollback');
      client.release();
    }
    // the pool never saw the rename (rolled back): still the original names
    expect((await queryStatistics(db.pool, { itemCode }, 'all')).byItem.map((g) => g.name)).toEqual([data.item.name]);
  });

  it('refuses a filter it cannot answer', async () => {
    await expect(queryStatistics(db.pool, { regionCode: '52' }, 'all')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(queryStatistics(db.pool, { from: '2026-02-30' }, 'all')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(queryStatistics(db.pool, { from: '2000-01-01', to: '2026-12-31' }, 'all')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
