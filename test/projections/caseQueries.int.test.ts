import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDeps } from '../../application/cases.ts';
import { publishServiceItem } from '../../application/serviceItems.ts';
import type { Clock } from '../../application/ports.ts';
import { alertLevel, type AlertLevel } from '../../domain/case/deadline.ts';
import type { ExistingCase } from '../../domain/case/state.ts';
import { canReadCase, type Principal } from '../../domain/permissions.ts';
import { regionCovers } from '../../domain/region.ts';
import { createCasesProjection } from '../../projections/cases/casesProjection.ts';
import {
  ALL_SCOPE, caseScopeFor, encodeCursor, getCase, getCaseByNumber, searchCases, type CaseFilter, type CaseScope,
} from '../../projections/cases/queries.ts';
import { createProjectionRunner, type ProjectionRunner } from '../../projections/runner.ts';
import { getServiceItem, listServiceItems } from '../../projections/serviceItems/queries.ts';
import { createServiceItemsProjection } from '../../projections/serviceItems/serviceItemsProjection.ts';
import { createSupervisionProjection } from '../../projections/supervision/supervisionProjection.ts';
import { writeSide } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';
import { publishItems, runCases, type ScenarioItem } from '../support/scenario.ts';

const blindIndex = (id: string) => `idx:${id}`;

/** A clock that moves 20 minutes every 6 readings (so some cases share an instant), or stands still. */
const steppingClock = (start: string) => {
  const t0 = Date.parse(start);
  let n = 0;
  let frozen: number | null = null;
  const clock: Clock & { freeze(): void; thaw(): void } = {
    now: () => new Date(frozen ?? t0 + Math.floor(n++ / 6) * 20 * 60_000),
    freeze: () => { frozen = t0 + Math.floor(n / 6) * 20 * 60_000; },
    thaw: () => { frozen = null; },
  };
  return clock;
};

interface Row {
  case_id: string;
  case_number: string;
  status: string;
  item_code: string;
  department_code: string;
  region_code: string;
  owner_id: string | null;
  applicant_index: string | null;
  clock_running: boolean;
  state: ExistingCase;
}

/** The alert level by the domain's own rule, from the folded state (independent of the read model's columns). */
const domainLevel = (r: Row, today: string): AlertLevel => {
  const s = r.state;
  if (s.status !== 'ACCEPTED') return 'NORMAL';
  const limit = (s.clock.caseType === 'IMMEDIATE' ? 0 : s.clock.limitDays) + s.clock.extensionDays;
  return alertLevel(today, s.clock.deadline, limit, s.item.warningThresholdPercent);
};

const newestFirst = (a: Row, b: Row) =>
  a.state.submittedAt === b.state.submittedAt ? (a.case_id < b.case_id ? 1 : -1) : a.state.submittedAt < b.state.submittedAt ? 1 : -1;

describe('case queries over ~1,000 projected cases', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let deps: CaseDeps;
  let items: ScenarioItem[];
  let runner: ProjectionRunner;
  let rows: Row[];
  const clock = steppingClock('2026-01-05T09:00:00+08:00');
  const TODAY = '2026-01-20';

  const caughtUp = () => runner.waitFor('cases', async () => (await runner.status()).every((s) => s.lag === 0), 60_000);

  /** Every page with `first`, checking the connection invariants on the way; the ids in order. */
  const pageAll = async (filter: CaseFilter, scope: CaseScope, today = TODAY, first = 7) => {
    const ids: string[] = [];
    let after: string | null = null;
    let total: number | null = null;
    for (let pages = 0; ; pages++) {
      const page = await searchCases(db.pool, { filter, scope, first, after, today });
      expect(page.nodes.length).toBeLessThanOrEqual(first);
      expect(page.edges.map((e) => e.node)).toEqual(page.nodes);
      expect(page.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
      total ??= page.totalCount;
      expect(page.totalCount).toBe(total);
      ids.push(...page.nodes.map((n) => n.id));
      if (!page.hasNextPage) break;
      expect(page.nodes.length).toBe(first);
      after = page.endCursor;
      expect(pages).toBeLessThan(1000);
    }
    expect(new Set(ids).size).toBe(ids.length);
    return { ids, total: total ?? 0 };
  };

  const expectMatches = async (filter: CaseFilter, predicate: (r: Row) => boolean, scope: CaseScope = ALL_SCOPE, today = TODAY) => {
    const expected = rows.filter(predicate).map((r) => r.case_id);
    const got = await pageAll(filter, scope, today);
    expect(got.ids).toEqual(expected);
    expect(got.total).toBe(expected.length);
    return expected.length;
  };

  beforeAll(async () => {
    db = await createTestDatabase('case_queries');
    deps = writeSide(db, clock);
    items = await publishItems(deps, 'Q');
    runner = createProjectionRunner({
      pool: db.pool, store: db.newStore(), connectionString: db.connectionString, schema: db.schema,
      projections: [createCasesProjection({ blindIndex }), createSupervisionProjection(), createServiceItemsProjection()],
    });
    runner.start();
    await runCases(deps, items, 960, 21, 8);
    clock.freeze(); // a burst of cases filed at one instant: the keyset's tie-breaker must hold
    await runCases({ ...deps, store: db.newStore() }, items, 40, 22, 8);
    clock.thaw();
    expect(await caughtUp()).toBe(true);
    rows = (await db.pool.query<Row>(
      `select case_id, case_number, status, item_code, department_code, region_code, owner_id, applicant_index, clock_running, state from cases`,
    )).rows.sort(newestFirst);
  }, 240_000);

  afterAll(async () => {
    await runner?.stop();
    await db?.drop();
  });

  it('has a realistic spread to test against', () => {
    expect(rows.length).toBe(1000);
    const statuses = new Set(rows.map((r) => r.status));
    // runCases always moves a case on from SUBMITTED (accepts, rejects or withdraws it)
    for (const s of ['CORRECTION_REQUESTED', 'ACCEPTED', 'SUSPENDED', 'COMPLETED', 'DELIVERED', 'REJECTED', 'WITHDRAWN']) expect(statuses).toContain(s);
    const instants = new Map<string, number>();
    for (const r of rows) instants.set(r.state.submittedAt, (instants.get(r.state.submittedAt) ?? 0) + 1);
    expect(Math.max(...instants.values())).toBeGreaterThanOrEqual(40);
  });

  it('no filter: every case exactly once, newest first, in pages of 7', async () => {
    const n = await expectMatches({}, () => true);
    expect(n).toBe(1000);
    // a larger page gives the same order
    const big = await pageAll({}, ALL_SCOPE, TODAY, 100);
    expect(big.ids).toEqual(rows.map((r) => r.case_id));
  });

  it('status (one and several)', async () => {
    for (const s of ['ACCEPTED', 'SUSPENDED', 'CORRECTION_REQUESTED', 'DELIVERED']) expect(await expectMatches({ status: [s] }, (r) => r.status === s)).toBeGreaterThan(0);
    await expectMatches({ status: ['ACCEPTED', 'SUSPENDED'] }, (r) => r.status === 'ACCEPTED' || r.status === 'SUSPENDED');
    await expectMatches({ status: [] }, () => true);
    await expectMatches({ status: ['CORRECTION_EXPIRED'] }, (r) => r.status === 'CORRECTION_EXPIRED');
  });

  it('itemCode and departmentCode', async () => {
    for (const item of items.slice(0, 3)) {
      expect(await expectMatches({ itemCode: item.itemCode }, (r) => r.item_code === item.itemCode)).toBeGreaterThan(0);
      expect(await expectMatches({ departmentCode: item.departmentCode }, (r) => r.department_code === item.departmentCode)).toBeGreaterThan(0);
    }
    await expectMatches({ itemCode: 'NO-SUCH-ITEM' }, () => false);
  });

  it('regionCode by GB/T 2260 prefix: province, prefecture, county', async () => {
    for (const code of ['520000', '520100', '520102', '520300', '510000']) await expectMatches({ regionCode: code }, (r) => regionCovers(code, r.region_code));
    expect(rows.filter((r) => regionCovers('520100', r.region_code)).length).toBeGreaterThan(rows.filter((r) => r.region_code === '520102').length);
  });

  it('alertLevel on several days, by the domain rule', async () => {
    const seen: Record<AlertLevel, number> = { NORMAL: 0, WARNING: 0, OVERDUE: 0 };
    for (const today of ['2026-01-12', '2026-01-20', '2026-01-28', '2026-02-10']) {
      for (const level of ['NORMAL', 'WARNING', 'OVERDUE'] as const) {
        seen[level] += await expectMatches({ alertLevel: level }, (r) => domainLevel(r, today) === level, ALL_SCOPE, today);
      }
      // the view's own alertLevel agrees with the filter
      const page = await searchCases(db.pool, { filter: { status: ['ACCEPTED'] }, scope: ALL_SCOPE, first: 100, today });
      for (const node of page.nodes) expect(node.alertLevel).toBe(domainLevel(rows.find((r) => r.case_id === node.id)!, today));
    }
    expect(seen.WARNING).toBeGreaterThan(0);
    expect(seen.OVERDUE).toBeGreaterThan(0);
    // a moved today changes the answer: what is NORMAL early on becomes OVERDUE later
    const early = await pageAll({ alertLevel: 'OVERDUE' }, ALL_SCOPE, '2026-01-06');
    const late = await pageAll({ alertLevel: 'OVERDUE' }, ALL_SCOPE, '2026-03-31');
    expect(late.total).toBeGreaterThan(early.total);
    expect(late.total).toBe(rows.filter((r) => r.status === 'ACCEPTED' && r.state.status === 'ACCEPTED' && r.state.clock.deadline < '2026-03-31').length);
  });

  it('submittedFrom (inclusive) and submittedTo (exclusive)', async () => {
    const mid = rows[Math.floor(rows.length / 2)]!.state.submittedAt;
    const later = rows[Math.floor(rows.length / 4)]!.state.submittedAt;
    await expectMatches({ submittedFrom: mid }, (r) => r.state.submittedAt >= mid);
    await expectMatches({ submittedTo: mid }, (r) => r.state.submittedAt < mid);
    await expectMatches({ submittedFrom: mid, submittedTo: later }, (r) => r.state.submittedAt >= mid && r.state.submittedAt < later);
    // an offset other than Z means the same instant
    const cst = new Date(Date.parse(mid) + 8 * 3600_000).toISOString().replace('Z', '+08:00');
    await expectMatches({ submittedFrom: cst }, (r) => r.state.submittedAt >= mid);
  });

  it('caseNumber and applicantIndex find one case', async () => {
    const r = rows[123]!;
    expect(await expectMatches({ caseNumber: r.case_number }, (x) => x.case_id === r.case_id)).toBe(1);
    expect(await expectMatches({ applicantIndex: r.applicant_index }, (x) => x.applicant_index === r.applicant_index)).toBe(1);
    // the applicant is sealed in the read model: open it, and search by the ID number's blind index
    const opened = await deps.vault.open(r.state.applicant);
    expect(opened).not.toBeNull();
    expect(await expectMatches({ applicantIndex: deps.vault.subjectOf(opened!.applicant.idNumber) }, (x) => x.case_id === r.case_id)).toBe(1);
    await expectMatches({ applicantIndex: 'idx:nobody' }, () => false);
  });

  it('filters combine with AND', async () => {
    const n = await expectMatches(
      { status: ['ACCEPTED', 'SUSPENDED'], regionCode: '520100', alertLevel: 'NORMAL', submittedFrom: '2026-01-05T00:00:00Z' },
      (r) => (r.status === 'ACCEPTED' || r.status === 'SUSPENDED') && regionCovers('520100', r.region_code) && domainLevel(r, TODAY) === 'NORMAL' && r.state.submittedAt >= '2026-01-05T00:00:00.000Z',
    );
    expect(n).toBeGreaterThan(0);
  });

  it('scopes per role are canReadCase', async () => {
    const item = items[0]!;
    const principals: Principal[] = [
      { id: 'applicant-7', roles: ['applicant'] },
      { id: 'clerk', roles: ['clerk'], departmentCode: item.departmentCode, regionCode: item.regionCode },
      { id: 'reviewer', roles: ['reviewer'], departmentCode: items[4]!.departmentCode },
      { id: 'sup-prefecture', roles: ['supervisor'], regionCode: '520100' },
      { id: 'sup-county', roles: ['supervisor'], regionCode: '520302' },
      { id: 'sup-province', roles: ['supervisor'], regionCode: '520000' },
      { id: 'auditor', roles: ['auditor'] },
      { id: 'admin', roles: ['admin'] },
      { id: 'applicant-8', roles: ['applicant', 'clerk'], departmentCode: items[7]!.departmentCode },
      { id: 'nobody', roles: [] },
      { id: 'clerk-without-dept', roles: ['clerk'] },
    ];
    for (const p of principals) {
      const target = (r: Row) => ({ ownerId: r.owner_id, departmentCode: r.department_code, regionCode: r.region_code });
      const n = await expectMatches({}, (r) => canReadCase(p, target(r)), caseScopeFor(p));
      if (p.roles.length > 0 && p.id !== 'clerk-without-dept') expect(n, p.id).toBeGreaterThan(0);
      else expect(n).toBe(0);
      // scope and filter together, including filters that imply the scope (the query then leaves the scope out) and that do not
      await expectMatches({ status: ['ACCEPTED'] }, (r) => r.status === 'ACCEPTED' && canReadCase(p, target(r)), caseScopeFor(p));
      for (const departmentCode of [item.departmentCode, items[4]!.departmentCode, items[7]!.departmentCode])
        await expectMatches({ departmentCode }, (r) => r.department_code === departmentCode && canReadCase(p, target(r)), caseScopeFor(p));
      for (const regionCode of ['520000', '520100', '520102', '520302'])
        await expectMatches({ regionCode }, (r) => regionCovers(regionCode, r.region_code) && canReadCase(p, target(r)), caseScopeFor(p));
    }
  });

  it('totalCount: exact by default, capped on request, or skipped', async () => {
    const accepted = rows.filter((r) => r.status === 'ACCEPTED').length;
    const base = { filter: { status: ['ACCEPTED'] }, scope: ALL_SCOPE, first: 5, today: TODAY };
    expect(await searchCases(db.pool, base)).toMatchObject({ totalCount: accepted, totalCountCapped: false });
    expect(await searchCases(db.pool, { ...base, count: { atMost: 10 } })).toMatchObject({ totalCount: 10, totalCountCapped: true });
    expect(await searchCases(db.pool, { ...base, count: { atMost: accepted } })).toMatchObject({ totalCount: accepted, totalCountCapped: false });
    expect(await searchCases(db.pool, { ...base, count: { atMost: accepted - 1 } })).toMatchObject({ totalCount: accepted - 1, totalCountCapped: true });
    const skipped = await searchCases(db.pool, { ...base, count: 'skip' });
    expect(skipped).toMatchObject({ totalCount: null, totalCountCapped: false, hasNextPage: true });
    expect(skipped.nodes).toEqual((await searchCases(db.pool, base)).nodes);
    await expect(searchCases(db.pool, { ...base, count: { atMost: 0 } })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'count' } });
    expect(await searchCases(db.pool, { ...base, scope: caseScopeFor({ id: 'x', roles: [] }), count: 'skip' })).toMatchObject({ totalCount: null, nodes: [] });
  });

  it('getCase and getCaseByNumber give the same view as the list', async () => {
    const page = await searchCases(db.pool, { filter: { status: ['ACCEPTED'] }, scope: ALL_SCOPE, first: 3, today: TODAY });
    for (const node of page.nodes) {
      expect(await getCase(db.pool, node.id, TODAY)).toEqual(node);
      expect(await getCaseByNumber(db.pool, node.caseNumber, TODAY)).toEqual(node);
    }
    expect(await getCase(db.pool, '00000000-0000-4000-8000-000000000000', TODAY)).toBeNull();
    expect(await getCase(db.pool, 'not-a-uuid', TODAY)).toBeNull();
    expect(await getCaseByNumber(db.pool, 'no-such-number', TODAY)).toBeNull();
  });

  it('bad input is VALIDATION_FAILED, naming the field', async () => {
    const base = { filter: {}, scope: ALL_SCOPE, first: 5, today: TODAY };
    const validCursor = (await searchCases(db.pool, base)).endCursor!;
    const badCursors = [
      'garbage!', 'Zm9v', encodeCursor('s1', ['2026-01-20', rows[0]!.case_id]), encodeCursor('c1', ['yesterday', rows[0]!.case_id]),
      encodeCursor('c1', ['2026-01-20T00:00:00.000000Z', 'x']), encodeCursor('c1', ['2026-13-45T00:00:00.000000Z', rows[0]!.case_id]), encodeCursor('c1', ['2026-02-30T00:00:00.000000Z', rows[0]!.case_id]),
      validCursor.slice(0, -3), `${validCursor}=`, Buffer.from('{"a":1}').toString('base64url'),
    ];
    for (const after of badCursors)
      await expect(searchCases(db.pool, { ...base, after }), after).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'after' } });
    for (const [input, field] of [
      [{ ...base, first: 0 }, 'first'], [{ ...base, first: 101 }, 'first'], [{ ...base, first: 2.5 }, 'first'],
      [{ ...base, filter: { regionCode: '5201' } }, 'filter.regionCode'],
      [{ ...base, filter: { status: ['OPEN'] } }, 'filter.status'],
      [{ ...base, filter: { alertLevel: 'RED' as AlertLevel } }, 'filter.alertLevel'],
      [{ ...base, filter: { submittedFrom: '2026-01-05' } }, 'filter.submittedFrom'],
      [{ ...base, filter: { submittedTo: 'soon' } }, 'filter.submittedTo'], [{ ...base, filter: { submittedTo: '2026-02-30T00:00:00Z' } }, 'filter.submittedTo'],
      [{ ...base, today: '2026-02-30' }, 'today'],
    ] as const)
      await expect(searchCases(db.pool, input), field).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field } });
    // an empty scope sees nothing but still validates its input
    await expect(searchCases(db.pool, { ...base, scope: caseScopeFor({ id: 'x', roles: [] }), after: 'garbage!' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('service items: the catalogue by region prefix and department, revisions bump the version', async () => {
    const all = await listServiceItems(db.pool);
    expect(all.map((i) => i.itemCode)).toEqual(items.map((i) => i.itemCode).sort());
    const guiyang = await listServiceItems(db.pool, { regionCode: '520100' });
    expect(guiyang.map((i) => i.itemCode).sort()).toEqual(items.filter((i) => regionCovers('520100', i.regionCode)).map((i) => i.itemCode).sort());
    expect((await listServiceItems(db.pool, { regionCode: '520102' })).every((i) => i.regionCode === '520102')).toBe(true);
    const dept = items[2]!.departmentCode;
    expect((await listServiceItems(db.pool, { departmentCode: dept })).map((i) => i.itemCode)).toEqual([items[2]!.itemCode]);
    expect(await listServiceItems(db.pool, { regionCode: '510000' })).toEqual([]);
    await expect(listServiceItems(db.pool, { regionCode: 'GZ' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'regionCode' } });

    const before = (await getServiceItem(db.pool, items[0]!.itemCode))!;
    expect(before).toMatchObject({ itemCode: items[0]!.itemCode, version: 0, steps: ['承办', '审核', '批准'] });
    const { version: _v, ...rules } = before;
    const revised = await publishServiceItem(deps, { ...rules, name: '改过的名称' }, { principal: { id: 'admin', roles: ['admin'] } });
    expect(await caughtUp()).toBe(true);
    expect(await getServiceItem(db.pool, items[0]!.itemCode)).toMatchObject({ name: '改过的名称', version: revised.version });
    expect(revised.version).toBe(1);
    expect(await getServiceItem(db.pool, 'NOPE')).toBeNull();
  });
});
