import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../application/eventStore.ts';
import type { CaseEvent } from '../../domain/case/events.ts';
import { evolve, initialCaseState, type CaseState } from '../../domain/case/state.ts';
import { splitPeriods } from '../../projections/statistics/periods.ts';
import { countersOf, foldStatsPage, nextStatus, zeroCounters, type CaseDims, type DailyDelta } from '../../projections/statistics/statsDelta.ts';
import { rng } from '../support/scenario.ts';

const CASE = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';

const item = {
  itemCode: 'ITEM-1', name: '食品经营许可', itemType: '01', departmentCode: 'D1', departmentName: '市场监管局', regionCode: '520102',
  caseType: 'PROMISED' as const, legalLimitDays: 20, promisedLimitDays: 10, steps: ['承办', '审核', '批准'], materials: [],
  correctionLimitDays: 5, rectificationLimitDays: 5, warningThresholdPercent: 20,
};

const submitted = (caseId = CASE): CaseEvent => ({
  type: 'CaseSubmitted',
  data: {
    caseId, caseNumber: 'N1', item, departmentCode: 'D1', regionCode: '520102', applicant: { name: '张三', idType: '111', idNumber: '5201' },
    materials: [], channel: 'PC', ownerId: 'a1', submittedAt: '2026-02-05T01:00:00Z',
  },
});

/** One of every event type, with plausible data. */
const samples: CaseEvent[] = [
  { type: 'CorrectionRequested', data: { missingMaterials: ['申请书'], reason: 'r', deadline: '2026-02-12' } },
  { type: 'CorrectionSupplied', data: { materials: [], stillMissing: [] } },
  { type: 'CorrectionExpired', data: { deadline: '2026-02-12' } },
  { type: 'CaseAccepted', data: { acceptedOn: '2026-02-05', caseType: 'PROMISED', limitDays: 10, deadline: '2026-03-05' } },
  { type: 'CaseRejected', data: { reason: 'r' } },
  { type: 'ReviewStepCompleted', data: { step: '承办', stepIndex: 0, action: 'PASS', opinion: 'ok', nextStep: '审核' } },
  { type: 'CaseSuspended', data: { procedure: 'HEARING', reason: 'r', expectedWorkingDays: 3, suspendedOn: '2026-02-06' } },
  { type: 'CaseResumed', data: { result: 'ok', suspendedOn: '2026-02-06', resumedOn: '2026-02-09', pausedWorkingDays: 1, deadline: '2026-03-06' } },
  { type: 'DeadlineExtended', data: { workingDays: 5, reason: 'r', deadline: '2026-03-12' } },
  { type: 'CaseTransferred', data: { fromDepartmentCode: 'D1', toDepartmentCode: 'D2', reason: 'r' } },
  { type: 'CaseDecided', data: { outcome: 'APPROVED', decidedOn: '2026-02-10', deadline: '2026-03-05', onTime: true, workingDaysUsed: 3 } },
  { type: 'ResultDelivered', data: { method: 'WINDOW', deliveredOn: '2026-02-11', deliveryDeadline: '2026-02-25', onTime: true } },
  { type: 'CaseWithdrawn', data: { reason: 'r', fromStatus: 'SUBMITTED' } },
  { type: 'CaseEvaluated', data: { score: 2, bad: true, rectificationDeadline: '2026-02-20' } },
  { type: 'RectificationCompleted', data: { reason: 'r', rectificationDeadline: '2026-02-20', onTime: true } },
  { type: 'DeadlineWarningRaised', data: { deadline: '2026-03-05', remainingWorkingDays: 2 } },
  { type: 'DeadlineExceeded', data: { deadline: '2026-03-05', workingDaysOverdue: 1 } },
  { type: 'SupervisionNoticeIssued', data: { noticeId: OTHER, content: 'c', replyBy: '2026-02-10' } },
  { type: 'SupervisionNoticeAnswered', data: { noticeId: OTHER, answer: 'a', onTime: true } },
  { type: 'ApplicantDataErased', data: { legalBasis: 'l' } },
  submitted(),
];

let seq = 0;
const recorded = (event: CaseEvent, revision: number, occurredAt: string, caseId = CASE): RecordedEvent => ({
  id: `e${seq}`, streamId: `case-${caseId}`, revision, position: `1:${++seq}`, type: event.type, data: event.data,
  metadata: { actorId: 'x', actorRole: 'clerk', occurredAt }, recordedAt: occurredAt, hash: 'h', previousHash: null,
});

const sumDaily = (rows: readonly DailyDelta[]) => {
  const out = new Map<string, DailyDelta>();
  for (const r of rows) {
    const key = `${r.day}|${r.region_code}|${r.department_code}|${r.item_code}`;
    const prev = out.get(key);
    const merged: Record<string, unknown> = { ...r };
    if (prev) for (const [k, v] of Object.entries(prev)) if (typeof v === 'number') merged[k] = v + (r as unknown as Record<string, number>)[k]!;
    out.set(key, merged as unknown as DailyDelta);
  }
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
};

describe('statistics, pure part', () => {
  it('follows the status exactly as the write side folds it, events that do not fit included', () => {
    const random = rng(7);
    for (let run = 0; run < 2_000; run++) {
      let state: CaseState = initialCaseState();
      let status = state.status;
      const events = [submitted(), ...Array.from({ length: 12 }, () => samples[Math.floor(random() * samples.length)]!)];
      for (const e of events) {
        state = evolve(state, e, '2026-02-05T01:00:00Z');
        status = nextStatus(status, e);
        expect(status).toBe(state.status);
      }
    }
  });

  it('counts a decision, a rating and a red card; counts nothing for an event that does not fit', () => {
    expect(countersOf('ACCEPTED', samples[10]!)).toEqual({ completed: 1, approved: 1, completed_on_time: 1, working_days_sum: 3 });
    expect(countersOf('SUSPENDED', samples[10]!)).toEqual({});
    expect(countersOf('ACCEPTED', { type: 'CaseDecided', data: { outcome: 'DENIED', reason: 'r', decidedOn: '2026-02-10', deadline: '2026-02-09', onTime: false, workingDaysUsed: 0 } }))
      .toEqual({ completed: 1, denied: 1, working_days_sum: 0 });
    const rate = (score: number) => countersOf('DELIVERED', { type: 'CaseEvaluated', data: { score, bad: score <= 2 } });
    expect(rate(5)).toEqual({ evaluations: 1, score_sum: 5, satisfied: 1 });
    expect(rate(4)).toEqual({ evaluations: 1, score_sum: 4, satisfied: 1 });
    expect(rate(3)).toEqual({ evaluations: 1, score_sum: 3 });
    expect(rate(2)).toEqual({ evaluations: 1, score_sum: 2, bad_reviews: 1 });
    expect(rate(1)).toEqual({ evaluations: 1, score_sum: 1, bad_reviews: 1 });
    expect(countersOf('ACCEPTED', samples[16]!)).toEqual({ overdue: 1 });
    expect(countersOf('NONE', samples[3]!)).toEqual({});
    expect(countersOf('SUBMITTED', submitted())).toEqual({}); // a second submission
    expect(countersOf('COMPLETED', samples[12]!)).toEqual({}); // withdrawal after the decision
  });

  it('attributes each event to its CST day and the department holding the case then', () => {
    const events = [
      recorded(submitted(), 0, '2026-02-05T16:20:00Z'), // 00:20 CST on 02-06
      recorded(samples[3]!, 1, '2026-02-06T01:00:00Z'),
      recorded(samples[9]!, 2, '2026-02-09T02:00:00Z'), // transferred D1 → D2
      recorded(samples[16]!, 3, '2026-02-13T15:59:59Z'), // 23:59:59 CST on 02-13
      recorded(samples[5]!, 4, '2026-02-13T16:00:00Z'),
      recorded(samples[10]!, 5, '2026-02-13T16:00:00Z'), // 00:00 CST on 02-14
    ];
    const page = foldStatsPage(new Map(), events);
    const z = zeroCounters();
    expect(sumDaily(page.daily)).toEqual([
      { day: '2026-02-06', region_code: '520102', department_code: 'D1', item_code: 'ITEM-1', ...z, submitted: 1, accepted: 1 },
      { day: '2026-02-13', region_code: '520102', department_code: 'D2', item_code: 'ITEM-1', ...z, overdue: 1 },
      { day: '2026-02-14', region_code: '520102', department_code: 'D2', item_code: 'ITEM-1', ...z, completed: 1, approved: 1, completed_on_time: 1, working_days_sum: 3 },
    ]);
    expect(page.dims).toEqual([{ caseId: CASE, regionCode: '520102', departmentCode: 'D2', itemCode: 'ITEM-1', status: 'COMPLETED', version: 5 }]);
    expect(page.current).toEqual([{ status: 'COMPLETED', region_code: '520102', department_code: 'D2', item_code: 'ITEM-1', n: 1 }]);
    expect(page.yearly).toEqual([
      { year: 2026, region_code: '520102', department_code: 'D1', item_code: 'ITEM-1', ...z, submitted: 1, accepted: 1 },
      { year: 2026, region_code: '520102', department_code: 'D2', item_code: 'ITEM-1', ...z, overdue: 1, completed: 1, approved: 1, completed_on_time: 1, working_days_sum: 3 },
    ]);
    expect(page.monthly.map((m) => [m.month, m.department_code, m.submitted, m.overdue, m.completed])).toEqual([['2026-02-01', 'D1', 1, 0, 0], ['2026-02-01', 'D2', 0, 1, 1]]);
    // the red-card day has no submission or completion: no day×region row
    expect(page.dayRegion).toEqual([
      { day: '2026-02-06', region_code: '520102', submitted: 1, completed: 0 },
      { day: '2026-02-14', region_code: '520102', submitted: 0, completed: 1 },
    ]);
    expect(page.names).toEqual([{ kind: 'item', key: 'ITEM-1', name: '食品经营许可' }, { kind: 'department', key: 'D1', name: '市场监管局' }]);
  });

  it('moves the snapshot by the net change of a known case, and skips events already applied', () => {
    const known = new Map<string, CaseDims>([[CASE, { caseId: CASE, regionCode: '520102', departmentCode: 'D1', itemCode: 'ITEM-1', status: 'ACCEPTED', version: 3 }]]);
    const page = foldStatsPage(known, [
      recorded(samples[3]!, 1, '2026-02-06T01:00:00Z'), // revision 1 ≤ 3: already applied
      recorded(samples[6]!, 4, '2026-02-07T01:00:00Z'), // suspended
      recorded(samples[7]!, 5, '2026-02-09T01:00:00Z'), // resumed
      recorded(samples[9]!, 6, '2026-02-09T02:00:00Z'), // transferred
      recorded(submitted(OTHER), 0, '2026-02-09T03:00:00Z', OTHER),
      recorded(samples[4]!, 1, '2026-02-09T04:00:00Z', OTHER), // rejected
    ]);
    expect(page.daily.map((r) => [r.day, r.department_code, r.submitted, r.accepted, r.rejected])).toEqual([['2026-02-09', 'D1', 1, 0, 1]]);
    expect(page.current).toEqual([
      { status: 'ACCEPTED', region_code: '520102', department_code: 'D1', item_code: 'ITEM-1', n: -1 },
      { status: 'ACCEPTED', region_code: '520102', department_code: 'D2', item_code: 'ITEM-1', n: 1 },
      { status: 'REJECTED', region_code: '520102', department_code: 'D1', item_code: 'ITEM-1', n: 1 },
    ]);
    // a whole page applied again (the dims now know every revision) counts nothing more
    const after = new Map(page.dims.map((d) => [d.caseId, d]));
    const again = foldStatsPage(after, [recorded(samples[9]!, 6, '2026-02-09T02:00:00Z'), recorded(samples[4]!, 1, '2026-02-09T04:00:00Z', OTHER)]);
    expect(again).toEqual({ dims: [], daily: [], monthly: [], yearly: [], dayRegion: [], current: [], names: [] });
  });

  it('a log cut into pages anywhere sums to the same as one page', () => {
    const random = rng(11);
    const events: RecordedEvent[] = [];
    const revisions = new Map<string, number>();
    const ids = Array.from({ length: 30 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    for (let i = 0; i < 600; i++) {
      const id = ids[Math.floor(random() * ids.length)]!;
      const rev = (revisions.get(id) ?? -1) + 1;
      revisions.set(id, rev);
      const e = rev === 0 ? submitted(id) : samples[Math.floor(random() * (samples.length - 1))]!;
      events.push(recorded(e, rev, new Date(Date.UTC(2026, 1, 1) + i * 3_600_000).toISOString(), id));
    }
    const whole = foldStatsPage(new Map(), events);
    let known = new Map<string, CaseDims>();
    const daily: DailyDelta[] = [];
    const current = new Map<string, number>();
    for (let at = 0; at < events.length;) {
      const size = 1 + Math.floor(random() * 40);
      const page = foldStatsPage(known, events.slice(at, at + size));
      at += size;
      known = new Map([...known, ...page.dims.map((d): [string, CaseDims] => [d.caseId, d])]);
      daily.push(...page.daily);
      for (const c of page.current) {
        const key = `${c.status}|${c.department_code}`;
        current.set(key, (current.get(key) ?? 0) + c.n);
      }
    }
    expect(sumDaily(daily)).toEqual(sumDaily(whole.daily));
    expect(whole.daily.length).toBeGreaterThan(20);
    expect(new Map([...current].filter(([, n]) => n !== 0))).toEqual(new Map(whole.current.map((c) => [`${c.status}|${c.department_code}`, c.n])));
    expect([...known.values()].sort((a, b) => (a.caseId < b.caseId ? -1 : 1))).toEqual([...whole.dims].sort((a, b) => (a.caseId < b.caseId ? -1 : 1)));
  });

  it('cuts a range into whole years, whole months and edge days that tile it exactly', () => {
    expect(splitPeriods('2025-01-01', '2025-12-31')).toEqual({ years: [2025], months: [], days: [] });
    expect(splitPeriods('2026-01-15', '2026-04-10')).toEqual({
      years: [], months: ['2026-02-01', '2026-03-01'],
      days: [...Array.from({ length: 17 }, (_, i) => `2026-01-${String(15 + i)}`), ...Array.from({ length: 10 }, (_, i) => `2026-04-${String(1 + i).padStart(2, '0')}`)],
    });
    expect(splitPeriods('2024-02-01', '2024-02-29')).toEqual({ years: [], months: ['2024-02-01'], days: [] });
    expect(splitPeriods('2026-03-05', '2026-03-04')).toEqual({ years: [], months: [], days: [] });
    // every day of a range is covered once, whatever the ends
    const random = rng(3);
    for (let run = 0; run < 300; run++) {
      const from = new Date(Date.UTC(2023, 0, 1) + Math.floor(random() * 1500) * 86_400_000).toISOString().slice(0, 10);
      const to = new Date(Date.parse(`${from}T00:00:00Z`) + Math.floor(random() * 900) * 86_400_000).toISOString().slice(0, 10);
      const p = splitPeriods(from, to);
      const covered: string[] = [...p.days];
      for (const y of p.years) for (let t = Date.UTC(y, 0, 1); t < Date.UTC(y + 1, 0, 1); t += 86_400_000) covered.push(new Date(t).toISOString().slice(0, 10));
      for (const m of p.months) {
        const [y, mo] = [Number(m.slice(0, 4)), Number(m.slice(5, 7))];
        for (let t = Date.UTC(y, mo - 1, 1); t < Date.UTC(y, mo, 1); t += 86_400_000) covered.push(new Date(t).toISOString().slice(0, 10));
      }
      covered.sort();
      const expected: string[] = [];
      for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) expected.push(new Date(t).toISOString().slice(0, 10));
      expect(covered).toEqual(expected);
      expect(p.days.length).toBeLessThanOrEqual(62);
    }
  });
});
