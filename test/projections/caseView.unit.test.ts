import { describe, expect, it } from 'vitest';
import { addWorkingDays } from '../../domain/calendar/index.ts';
import { alertLevel, computeDeadline } from '../../domain/case/deadline.ts';
import type { CaseEvent } from '../../domain/case/events.ts';
import { evolve, initialCaseState, type CaseState, type ExistingCase } from '../../domain/case/state.ts';
import { canReadCase, type Principal, type Role } from '../../domain/permissions.ts';
import { regionCovers } from '../../domain/region.ts';
import { ServiceItemRulesSchema } from '../../domain/serviceItem/serviceItem.ts';
import { addCalendarDays } from '../../domain/time.ts';
import { caseColumns } from '../../projections/cases/caseRow.ts';
import {
  alertLevelOf, applicantView, caseScopeFor, caseViewFromRow, isEmptyScope, maskApplicant, scopeAllows, scopeImpliedBy, type ApplicantView,
} from '../../projections/cases/queries.ts';
import { supervisionScopeFor } from '../../projections/supervision/queries.ts';

const CASE_ID = '0b7e6a1c-3f7e-4d2a-9a43-1f1f5b7d0c11';
const item = ServiceItemRulesSchema.parse({
  itemCode: 'ITEM-1', name: '食品经营许可', itemType: '01', departmentCode: 'GY-MARKET', departmentName: '南明区市场监管局',
  regionCode: '520102', caseType: 'PROMISED', legalLimitDays: 20, promisedLimitDays: 10,
});

const submitted: CaseEvent = {
  type: 'CaseSubmitted',
  data: {
    caseId: CASE_ID, caseNumber: '520102-20260302-000001', item, departmentCode: 'GY-MARKET', regionCode: '520102',
    applicant: { name: '张三', idType: '111', idNumber: '520102199001011234', phone: '13912342345', address: '贵阳市南明区花果园' },
    materials: [{ name: '申请书', provided: true }], channel: 'PC', ownerId: 'applicant-1', submittedAt: '2026-03-02T01:00:00.000Z',
  },
};
const acceptedOn = '2026-03-02';
const deadline = computeDeadline({ acceptedOn, caseType: 'PROMISED', limitDays: 10, extensionDays: 0, pausedDays: 0 });
const accepted: CaseEvent = { type: 'CaseAccepted', data: { acceptedOn, caseType: 'PROMISED', limitDays: 10, deadline } };

const fold = (events: readonly CaseEvent[]): ExistingCase => {
  let s: CaseState = initialCaseState();
  events.forEach((e, i) => {
    s = evolve(s, e, new Date(Date.UTC(2026, 2, 2 + i, 2)).toISOString()); // event i happens on March 2 + i, 10:00 CST
  });
  if (s.status === 'NONE') throw new Error('no case');
  return s;
};

const row = (events: readonly CaseEvent[]) => {
  const state = fold(events);
  return caseColumns({ caseId: CASE_ID, version: events.length - 1, state, position: '1:1' }, (id) => `idx:${id}`);
};

describe('maskApplicant', () => {
  const clear: ApplicantView = { name: '张三', idType: '111', idNumber: '520102199001011234', phone: '13912342345', address: '贵阳市南明区花果园小区', erased: false };

  it('masks ID, phone, name and address as the platform shows them', () => {
    expect(maskApplicant(clear)).toEqual({
      name: '张*', idType: '111', idNumber: '520102********1234', phone: '139****2345', address: '贵阳市南明区*****', erased: false,
    });
  });

  it('handles short, long and missing values without revealing them whole', () => {
    expect(maskApplicant({ ...clear, name: '欧阳娜娜' }).name).toBe('欧***');
    expect(maskApplicant({ ...clear, name: '李' }).name).toBe('*');
    expect(maskApplicant({ ...clear, idNumber: 'E12345678' }).idNumber).toBe('E*******8');
    expect(maskApplicant({ ...clear, phone: '0851-86812345' }).phone).toBe('085******2345');
    expect(maskApplicant({ ...clear, address: '贵阳市南明区' }).address).toBe('贵阳市南明区');
    expect(maskApplicant({ ...clear, phone: null, address: null })).toMatchObject({ phone: null, address: null });
  });

  it('an erased applicant shows nothing at all', () => {
    expect(maskApplicant({ ...clear, erased: true })).toEqual({ name: null, idType: null, idNumber: null, phone: null, address: null, erased: true });
  });
});

describe('caseScopeFor', () => {
  it('gives each role its scope', () => {
    expect(caseScopeFor({ id: 'a-1', roles: ['applicant'] })).toEqual({ all: false, ownerIds: ['a-1'], departmentCodes: [], regionCodes: [] });
    expect(caseScopeFor({ id: 'c', roles: ['clerk'], departmentCode: 'D1', regionCode: '520102' })).toEqual({ all: false, ownerIds: [], departmentCodes: ['D1'], regionCodes: [] });
    expect(caseScopeFor({ id: 'r', roles: ['reviewer'], departmentCode: 'D2' })).toMatchObject({ departmentCodes: ['D2'] });
    expect(caseScopeFor({ id: 's', roles: ['supervisor'], regionCode: '520100' })).toEqual({ all: false, ownerIds: [], departmentCodes: [], regionCodes: ['520100'] });
    for (const role of ['auditor', 'admin', 'system'] as const) expect(caseScopeFor({ id: 'x', roles: [role] }).all).toBe(true);
  });

  it('several roles see the union; no role (or a role without its claim) sees nothing', () => {
    expect(caseScopeFor({ id: 'u', roles: ['applicant', 'clerk', 'supervisor'], departmentCode: 'D1', regionCode: '520300' }))
      .toEqual({ all: false, ownerIds: ['u'], departmentCodes: ['D1'], regionCodes: ['520300'] });
    expect(isEmptyScope(caseScopeFor({ id: 'n', roles: [] }))).toBe(true);
    expect(isEmptyScope(caseScopeFor({ id: 'c', roles: ['clerk'] }))).toBe(true);
    expect(isEmptyScope(caseScopeFor({ id: 's', roles: ['supervisor'], regionCode: 'GUIZHOU' }))).toBe(true);
  });

  it('agrees with canReadCase on every principal × case combination', () => {
    const roleSets: Role[][] = [[], ['applicant'], ['clerk'], ['reviewer'], ['supervisor'], ['auditor'], ['admin'], ['system'], ['applicant', 'clerk'], ['reviewer', 'supervisor'], ['applicant', 'supervisor']];
    const principals: Principal[] = [];
    for (const roles of roleSets)
      for (const departmentCode of [undefined, 'D1', 'D2'])
        for (const regionCode of [undefined, '520000', '520100', '520102', '520300'])
          principals.push({ id: 'u1', roles, departmentCode, regionCode });
    const targets = [];
    for (const ownerId of [null, 'u1', 'u2'])
      for (const departmentCode of ['D1', 'D2', 'D3'])
        for (const regionCode of ['520102', '520111', '520302', '510104'])
          targets.push({ ownerId, departmentCode, regionCode });
    let checked = 0;
    for (const p of principals)
      for (const t of targets) {
        expect(scopeAllows(caseScopeFor(p), t), JSON.stringify({ p, t })).toBe(canReadCase(p, t));
        checked++;
      }
    expect(checked).toBeGreaterThan(5000);
  });

  it('a filter implies the scope only when every case it selects is in scope', () => {
    const scopes = [
      caseScopeFor({ id: 'c', roles: ['clerk'], departmentCode: 'D1' }),
      caseScopeFor({ id: 's', roles: ['supervisor'], regionCode: '520100' }),
      caseScopeFor({ id: 's', roles: ['supervisor'], regionCode: '520102' }),
      caseScopeFor({ id: 's', roles: ['supervisor'], regionCode: '520000' }),
      caseScopeFor({ id: 'u', roles: ['applicant', 'clerk'], departmentCode: 'D2' }),
      caseScopeFor({ id: 'a', roles: ['auditor'] }),
    ];
    const filters = [{}, { departmentCode: 'D1' }, { departmentCode: 'D2' }, { regionCode: '520000' }, { regionCode: '520100' }, { regionCode: '520102' }, { regionCode: '520302' }, { regionCode: 'bad' }];
    const targets = ['D1', 'D2', 'D3'].flatMap((departmentCode) =>
      ['520102', '520111', '520100', '520302', '510104'].flatMap((regionCode) => [null, 'u', 'x'].map((ownerId) => ({ departmentCode, regionCode, ownerId }))));
    const selects = (f: { departmentCode?: string; regionCode?: string }, t: (typeof targets)[number]) =>
      (f.departmentCode === undefined || f.departmentCode === t.departmentCode) && (f.regionCode === undefined || regionCovers(f.regionCode, t.regionCode));
    let implied = 0;
    for (const scope of scopes)
      for (const f of filters)
        if (scopeImpliedBy(scope, f)) {
          implied++;
          for (const t of targets) if (selects(f, t)) expect(scopeAllows(scope, t), JSON.stringify({ scope, f, t })).toBe(true);
        }
    expect(implied).toBeGreaterThan(8);
    expect(scopeImpliedBy(scopes[2]!, { regionCode: '520100' })).toBe(false);
  });

  it('supervision leaves out an applicant’s own cases', () => {
    expect(isEmptyScope(supervisionScopeFor({ id: 'a', roles: ['applicant'] }))).toBe(true);
    expect(supervisionScopeFor({ id: 's', roles: ['supervisor', 'applicant'], regionCode: '520100' })).toMatchObject({ ownerIds: [], regionCodes: ['520100'] });
  });
});

describe('row → CaseView', () => {
  it('a submitted case: no clock, NORMAL, personal data in the clear (masking is the API’s)', () => {
    const v = caseViewFromRow(row([submitted]), '2026-03-02');
    expect(v).toEqual({
      id: CASE_ID, caseNumber: '520102-20260302-000001', status: 'SUBMITTED', version: 0,
      item: { itemCode: 'ITEM-1', name: '食品经营许可', caseType: 'PROMISED', promisedLimitDays: 10 },
      departmentCode: 'GY-MARKET', regionCode: '520102',
      applicant: { name: '张三', idType: '111', idNumber: '520102199001011234', phone: '13912342345', address: '贵阳市南明区花果园' },
      applicantErased: false,
      channel: 'PC', submittedAt: '2026-03-02T01:00:00.000Z', acceptedAt: null, deadline: null, remainingWorkingDays: null,
      alertLevel: 'NORMAL', currentStep: null, outcome: null, completedAt: null, completedOnTime: null, deliveredAt: null,
      evaluation: null, ownerId: 'applicant-1',
    });
  });

  it('an accepted case: deadline, remaining working days, current step, alert level moving with today', () => {
    const r = row([submitted, accepted]);
    const v = caseViewFromRow(r, acceptedOn);
    expect(v).toMatchObject({ status: 'ACCEPTED', acceptedAt: '2026-03-03T02:00:00.000Z', deadline, remainingWorkingDays: 11, currentStep: '承办', alertLevel: 'NORMAL' });
    expect(caseViewFromRow(r, deadline)).toMatchObject({ remainingWorkingDays: 1, alertLevel: 'WARNING' });
    expect(caseViewFromRow(r, addWorkingDays(deadline, 1))).toMatchObject({ remainingWorkingDays: -1, alertLevel: 'OVERDUE' });
    const passed = row([submitted, accepted, { type: 'ReviewStepCompleted', data: { step: '承办', stepIndex: 0, action: 'PASS', opinion: '同意', nextStep: '审核' } }]);
    expect(caseViewFromRow(passed, acceptedOn).currentStep).toBe('审核');
  });

  it('the alert level of the row is the domain’s alertLevel on every day of the clock', () => {
    const r = row([submitted, accepted]);
    for (let d = acceptedOn; d <= addCalendarDays(deadline, 5); d = addCalendarDays(d, 1))
      expect(alertLevelOf(r, d), d).toBe(alertLevel(d, deadline, 10, item.warningThresholdPercent));
  });

  it('a suspended case keeps its step and deadline but the clock does not run', () => {
    const v = caseViewFromRow(row([submitted, accepted, { type: 'CaseSuspended', data: { procedure: 'HEARING', reason: '听证', suspendedOn: '2026-03-04' } }]), addWorkingDays(deadline, 3));
    expect(v).toMatchObject({ status: 'SUSPENDED', currentStep: '承办', deadline, remainingWorkingDays: null, alertLevel: 'NORMAL' });
  });

  it('completed, delivered, rated badly then rectified', () => {
    const steps: CaseEvent[] = ['承办', '审核', '批准'].map((step, i) => ({ type: 'ReviewStepCompleted', data: { step, stepIndex: i, action: 'PASS', opinion: '同意', nextStep: null } }));
    const decided: CaseEvent = { type: 'CaseDecided', data: { outcome: 'APPROVED', licenceNumber: 'L1', decidedOn: '2026-03-06', deadline, onTime: true, workingDaysUsed: 3 } };
    const completed = caseViewFromRow(row([submitted, accepted, ...steps, decided]), '2026-03-06');
    expect(completed).toMatchObject({ status: 'COMPLETED', outcome: 'APPROVED', completedAt: '2026-03-07T02:00:00.000Z', completedOnTime: true, currentStep: null, remainingWorkingDays: null, alertLevel: 'NORMAL', deliveredAt: null });
    const delivered: CaseEvent = { type: 'ResultDelivered', data: { method: 'WINDOW', deliveredOn: '2026-03-09', deliveryDeadline: '2026-03-20', onTime: true } };
    const rated: CaseEvent = { type: 'CaseEvaluated', data: { score: 2, comment: '太慢', bad: true, rectificationDeadline: '2026-03-16' } };
    const v = caseViewFromRow(row([submitted, accepted, ...steps, decided, delivered, rated]), '2026-03-09');
    expect(v).toMatchObject({ status: 'DELIVERED', deliveredAt: '2026-03-08T02:00:00.000Z', evaluation: { score: 2, comment: '太慢', bad: true, rectified: false, evaluatedAt: '2026-03-09T02:00:00.000Z' } });
    const fixed = caseViewFromRow(row([submitted, accepted, ...steps, decided, delivered, rated, { type: 'RectificationCompleted', data: { reason: '已整改', rectificationDeadline: '2026-03-16', onTime: true } }]), '2026-03-09');
    expect(fixed.evaluation).toMatchObject({ bad: true, rectified: true });
    const good = caseViewFromRow(row([submitted, accepted, ...steps, decided, delivered, { type: 'CaseEvaluated', data: { score: 5, bad: false } }]), '2026-03-09');
    expect(good.evaluation).toMatchObject({ score: 5, bad: false, rectified: null });
  });

  it('an erased applicant has no personal data left; the row has no applicant index', () => {
    const r = row([submitted, { type: 'ApplicantDataErased', data: { legalBasis: '个人信息保护法第47条' } }]);
    expect(r.applicant_index).toBeNull();
    const v = caseViewFromRow(r, '2026-03-02');
    expect(v.applicantErased).toBe(true);
    expect(v.applicant).toEqual({ name: '', idType: '111', idNumber: '' });
    expect(applicantView(null)).toEqual({ name: null, idType: null, idNumber: null, phone: null, address: null, erased: true });
  });

  it('a date the calendar has no data for gives unknown remaining days, not a failure', () => {
    const v = caseViewFromRow(row([submitted, accepted]), '2031-01-02');
    expect(v).toMatchObject({ remainingWorkingDays: null, alertLevel: 'OVERDUE' });
  });
});
