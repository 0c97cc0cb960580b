import { describe, it, expect } from 'vitest';
import { addWorkingDays, isWorkingDay, workingDaysBetween } from '../../domain/calendar/index.ts';
import { CaseCommandSchemas, caseCommandTypes, type CaseCommandData, type CaseCommandType } from '../../domain/case/commands.ts';
import { caseEventTypes, type CaseEvent, type CaseEventType, type CaseResumed } from '../../domain/case/events.ts';
import { evolve, initialCaseState, type CaseIn, type CaseState, type CaseStatus } from '../../domain/case/state.ts';
import type { Instant, LocalDate } from '../../domain/time.ts';
import {
  accepted, allStepsPassed, applicant, at, command, completeMaterials, correctionRequested, decided, DEPARTMENT,
  evaluated, fold, given, incompleteMaterials, MATERIAL_APPLICATION, MATERIAL_LICENCE, NOTICE_ID, noticeIssued,
  OTHER_DEPARTMENT, on, serviceItem, stepPassed, submitted, suspended, type GivenEvent,
} from '../support/givenWhenThen.ts';

/*
 * The 2026 calendar around the dates used here (国务院办公厅 2026 notice):
 *   Sep 20 (Sun)        make-up working day (国庆调休)
 *   Sep 25–27 (Fri–Sun) 中秋节 off
 *   Oct 1–7 (Thu–Wed)   国庆节 off
 *   Oct 10 (Sat)        make-up working day
 * so the working days from the end of September are:
 *   Sep 28 Mon, 29 Tue, 30 Wed | Oct 8 Thu, 9 Fri, 10 Sat, 12 Mon … 16 Fri, 19 Mon … 23 Fri, 26 … 30 | Nov 2 …
 */

const narrow = <S extends CaseStatus>(state: CaseState, status: S): CaseIn<S> => {
  expect(state.status).toBe(status);
  return state as CaseIn<S>;
};

const NEW_NOTICE = '2f1e0d9c-8b7a-4654-a321-0fedcba98765';
const OTHER_NOTICE = '9a8b7c6d-5e4f-4321-8765-43210fedcba9';

// Base histories on the main timeline: filed Tue 2026-09-29, accepted Wed 2026-09-30 (deadline Oct 20).
const filed = (materials = completeMaterials()): GivenEvent[] => [
  on('2026-09-29', submitted({ materials, submittedAt: at('2026-09-29') })),
];
const acceptedSep30: GivenEvent[] = [...filed(), on('2026-09-30', accepted('2026-09-30', '2026-10-20'))];
const readyToDecide: GivenEvent[] = [...acceptedSep30, ...allStepsPassed('2026-10-16')];

// =============================================================================================
describe('SubmitCase', () => {
  it('files a new case with the item rules copied in and the department and region taken from the item', () => {
    const expected = submitted({ submittedAt: at('2026-09-29') });
    const d = expected.data;
    given([])
      .when(command('SubmitCase', {
        caseId: d.caseId, caseNumber: d.caseNumber, item: serviceItem(), applicant: applicant(), materials: completeMaterials(),
        channel: 'PC', formData: d.formData as Record<string, unknown>, ownerId: d.ownerId,
      }, at('2026-09-29')))
      .then([expected]);
    expect(d.departmentCode).toBe(DEPARTMENT);
    expect(d.regionCode).toBe('520102');
    expect(d.item.steps).toEqual(['承办', '审核', '批准']);
  });

  it('files a window case (a clerk filed it: no owner account), even with materials missing', () => {
    const state = given([])
      .when(command('SubmitCase', {
        caseId: submitted().data.caseId, caseNumber: submitted().data.caseNumber, item: serviceItem(), applicant: applicant(),
        materials: incompleteMaterials(), channel: 'WINDOW', ownerId: null,
      }, at('2026-09-29', '14:30:00')))
      .then([{
        type: 'CaseSubmitted',
        data: {
          caseId: submitted().data.caseId, caseNumber: submitted().data.caseNumber, item: serviceItem(), departmentCode: DEPARTMENT,
          regionCode: '520102', applicant: applicant(), materials: incompleteMaterials(), channel: 'WINDOW', formData: undefined,
          ownerId: null, submittedAt: at('2026-09-29', '14:30:00'),
        },
      }]);
    const s = narrow(state, 'SUBMITTED');
    expect(s.ownerId).toBeNull();
    expect(s.correctionRequested).toBe(false);
  });
});

// =============================================================================================
describe('RequestCorrection / SupplyCorrection / ExpireCorrection (补齐补正, 一次性告知)', () => {
  it('lists the missing materials once, with a deadline 5 working days on, across National Day', () => {
    // Requested Tue Sep 29: +1 Sep 30, (Oct 1–7 off), +2 Oct 8, +3 Oct 9, +4 Oct 10 (Sat, make-up), (Oct 11 Sun), +5 Oct 12.
    const state = given(filed(incompleteMaterials()))
      .when(command('RequestCorrection', { missingMaterials: [MATERIAL_LICENCE], reason: '营业执照复印件未提交' }, at('2026-09-29', '11:00:00')))
      .then([{
        type: 'CorrectionRequested',
        data: { missingMaterials: [MATERIAL_LICENCE], reason: '营业执照复印件未提交', deadline: '2026-10-12' },
      }]);
    const s = narrow(state, 'CORRECTION_REQUESTED');
    expect(s.correction).toEqual({ requestedAt: at('2026-09-29', '11:00:00'), missing: [MATERIAL_LICENCE], deadline: '2026-10-12' });
    expect(s.correctionRequested).toBe(true);
  });

  it('refuses a second request after the correction was supplied (一次性告知: once per case)', () => {
    given([
      ...filed(incompleteMaterials()),
      on('2026-09-29', correctionRequested('2026-10-12'), '11:00:00'),
      on('2026-10-08', { type: 'CorrectionSupplied', data: { materials: [{ name: MATERIAL_LICENCE, provided: true }], stillMissing: [] } }),
    ])
      .when(command('RequestCorrection', { missingMaterials: [MATERIAL_APPLICATION], reason: '申请书签字不全' }, at('2026-10-08', '15:00:00')))
      .thenThrows('INVALID_TRANSITION');
  });

  it('takes the supplied materials and goes back to SUBMITTED, where the case can be accepted', () => {
    const history = [...filed(incompleteMaterials()), on('2026-09-29', correctionRequested('2026-10-12'), '11:00:00')];
    const supplied = [{ name: MATERIAL_LICENCE, provided: true, copies: 1 }];
    const state = given(history)
      .when(command('SupplyCorrection', { materials: supplied }, at('2026-10-09')))
      .then([{ type: 'CorrectionSupplied', data: { materials: supplied, stillMissing: [] } }]);
    const s = narrow(state, 'SUBMITTED');
    expect(s.materials).toEqual([
      { name: MATERIAL_APPLICATION, provided: true, copies: 1 },
      { name: MATERIAL_LICENCE, provided: true, copies: 1 },
    ]);
    expect('correction' in s).toBe(false);

    // Correction time is never counted: the clock starts at acceptance (Fri Oct 9 + 10 working days:
    // Oct 10 (Sat), 12, 13, 14, 15, 16, 19, 20, 21, 22 → Thu Oct 22).
    given([...history, on('2026-10-09', { type: 'CorrectionSupplied', data: { materials: supplied, stillMissing: [] } })])
      .when(command('AcceptCase', {}, at('2026-10-09', '10:00:00')))
      .then([accepted('2026-10-09', '2026-10-22')]);
  });

  it('records what is still missing when the supply is partial; the case then can only be rejected', () => {
    const history = [
      on('2026-09-29', submitted({ materials: [], submittedAt: at('2026-09-29') })),
      on('2026-09-29', correctionRequested('2026-10-12', [MATERIAL_APPLICATION, MATERIAL_LICENCE]), '11:00:00'),
    ];
    const supplied = [{ name: MATERIAL_APPLICATION, provided: true }, { name: MATERIAL_LICENCE, provided: false }];
    given(history)
      .when(command('SupplyCorrection', { materials: supplied }, at('2026-10-09')))
      .then([{ type: 'CorrectionSupplied', data: { materials: supplied, stillMissing: [MATERIAL_LICENCE] } }]);
    const after = [...history, on('2026-10-09', { type: 'CorrectionSupplied', data: { materials: supplied, stillMissing: [MATERIAL_LICENCE] } } as CaseEvent)];
    given(after).when(command('AcceptCase', {}, at('2026-10-09', '10:00:00'))).thenThrows('INVALID_TRANSITION');
    given(after).when(command('RequestCorrection', { missingMaterials: [MATERIAL_LICENCE], reason: '仍缺' }, at('2026-10-09', '10:00:00')))
      .thenThrows('INVALID_TRANSITION');
    given(after).when(command('RejectCase', { reason: '补正后材料仍不齐全' }, at('2026-10-09', '10:00:00')))
      .then([{ type: 'CaseRejected', data: { reason: '补正后材料仍不齐全' } }]);
  });

  describe('expiry only after the correction deadline (Mon Oct 12)', () => {
    const history = [...filed(incompleteMaterials()), on('2026-09-29', correctionRequested('2026-10-12'), '11:00:00')];
    it('is refused on the deadline day itself, up to its last minute CST', () => {
      given(history).when(command('ExpireCorrection', {}, at('2026-10-12', '23:59:59'))).thenThrows('INVALID_TRANSITION');
      given(history).when(command('ExpireCorrection', {}, '2026-10-12T15:59:59Z')).thenThrows('INVALID_TRANSITION');
      given(history).when(command('ExpireCorrection', {}, at('2026-10-09'))).thenThrows('INVALID_TRANSITION');
    });
    it('expires the day after (00:30 CST is still 16:30 UTC of the deadline day) and is terminal', () => {
      const state = given(history)
        .when(command('ExpireCorrection', {}, '2026-10-12T16:30:00Z'))
        .then([{ type: 'CorrectionExpired', data: { deadline: '2026-10-12' } }]);
      narrow(state, 'CORRECTION_EXPIRED');
    });
  });
});

// =============================================================================================
describe('AcceptCase / RejectCase (受理)', () => {
  it('fixes the deadline at acceptance: Wed 2026-09-30 + 10 working days = Tue 2026-10-20', () => {
    // The acceptance day is not counted. Oct 1–7 are National Day (off), Oct 10 (Sat) is a make-up
    // working day, Oct 11 (Sun) is off:
    //   1 Oct 8 (Thu), 2 Oct 9 (Fri), 3 Oct 10 (Sat, 调休), 4 Oct 12, 5 Oct 13, 6 Oct 14, 7 Oct 15,
    //   8 Oct 16 (Fri), 9 Oct 19 (Mon), 10 Oct 20 (Tue).
    // (Sep 20 (Sun) is the other make-up day of the holiday, before the case, so it plays no part.)
    const state = given(filed())
      .when(command('AcceptCase', {}, at('2026-09-30', '10:00:00')))
      .then([{ type: 'CaseAccepted', data: { acceptedOn: '2026-09-30', caseType: 'PROMISED', limitDays: 10, deadline: '2026-10-20' } }]);
    const s = narrow(state, 'ACCEPTED');
    expect(s.stepIndex).toBe(0);
    expect(s.clock).toEqual({
      acceptedAt: at('2026-09-30', '10:00:00'), acceptedOn: '2026-09-30', caseType: 'PROMISED', limitDays: 10,
      extensionDays: 0, pausedDays: 0, deadline: '2026-10-20', warningRaised: false, exceededRaised: false,
    });
    expect(workingDaysBetween('2026-09-30', '2026-10-20')).toBe(10);
  });

  it('takes the acceptance day in China Standard Time (16:30 UTC on Sep 29 is 00:30 on Sep 30 in Guiyang)', () => {
    given(filed()).when(command('AcceptCase', {}, '2026-09-29T16:30:00Z')).then([accepted('2026-09-30', '2026-10-20')]);
  });

  it('refuses when a required material is missing (request a correction or reject instead)', () => {
    given(filed(incompleteMaterials())).when(command('AcceptCase', {}, at('2026-09-30'))).thenThrows('INVALID_TRANSITION');
    given(filed([])).when(command('AcceptCase', {}, at('2026-09-30'))).thenThrows('INVALID_TRANSITION');
  });

  it('does not need the optional material (授权委托书)', () => {
    expect(completeMaterials().map((m) => m.name)).not.toContain('授权委托书');
    given(filed()).when(command('AcceptCase', {}, at('2026-09-30'))).then([accepted('2026-09-30', '2026-10-20')]);
  });

  describe('an immediate case (即办件)', () => {
    const item = serviceItem({ caseType: 'IMMEDIATE', promisedLimitDays: 0, legalLimitDays: 20 });
    const immediate = (date: LocalDate) => [on(date, submitted({ item, submittedAt: at(date) }))];

    it('is due on its acceptance day', () => {
      given(immediate('2026-10-09'))
        .when(command('AcceptCase', {}, at('2026-10-09', '09:30:00')))
        .then([accepted('2026-10-09', '2026-10-09', 'IMMEDIATE', 0)]);
    });

    it('accepted online on a holiday (Sat Oct 3) is due on the next working day, Thu Oct 8', () => {
      given(immediate('2026-10-03'))
        .when(command('AcceptCase', {}, at('2026-10-03', '20:00:00')))
        .then([accepted('2026-10-03', '2026-10-08', 'IMMEDIATE', 0)]);
    });

    it('decided the same day is on time; decided the next working day is late', () => {
      const history = [...immediate('2026-10-09'), on('2026-10-09', accepted('2026-10-09', '2026-10-09', 'IMMEDIATE', 0), '09:30:00'), ...allStepsPassed('2026-10-09')];
      given(history).when(command('DecideCase', { outcome: 'APPROVED', licenceNumber: 'L-1' }, at('2026-10-09', '16:00:00')))
        .then([{ type: 'CaseDecided', data: { outcome: 'APPROVED', licenceNumber: 'L-1', decidedOn: '2026-10-09', deadline: '2026-10-09', onTime: true, workingDaysUsed: 0 } }]);
      // Sat Oct 10 is a make-up working day: one working day used, one day late.
      given(history).when(command('DecideCase', { outcome: 'APPROVED', licenceNumber: 'L-1' }, at('2026-10-10', '09:00:00')))
        .then([{ type: 'CaseDecided', data: { outcome: 'APPROVED', licenceNumber: 'L-1', decidedOn: '2026-10-10', deadline: '2026-10-09', onTime: false, workingDaysUsed: 1 } }]);
    });
  });

  it('rejects (不予受理) with its reason; the case is closed', () => {
    const state = given(filed(incompleteMaterials()))
      .when(command('RejectCase', { reason: '申请事项不属于本机关职权范围' }, at('2026-09-30')))
      .then([{ type: 'CaseRejected', data: { reason: '申请事项不属于本机关职权范围' } }]);
    expect(narrow(state, 'REJECTED').reason).toBe('申请事项不属于本机关职权范围');
  });
});

// =============================================================================================
describe('CompleteReviewStep (承办 → 审核 → 批准)', () => {
  const step = (name: string, action: 'PASS' | 'RETURN', date = '2026-10-08') =>
    command('CompleteReviewStep', { step: name, action, opinion: action === 'PASS' ? '同意' : '材料需补充说明' }, at(date));

  it('passes the first step and names the next', () => {
    const state = given(acceptedSep30).when(step('承办', 'PASS')).then([{
      type: 'ReviewStepCompleted', data: { step: '承办', stepIndex: 0, action: 'PASS', opinion: '同意', nextStep: '审核' },
    }]);
    expect(narrow(state, 'ACCEPTED').stepIndex).toBe(1);
  });

  it('passes the steps in order; after the last one there is no next step', () => {
    given([...acceptedSep30, on('2026-10-08', stepPassed(0))]).when(step('审核', 'PASS')).then([{
      type: 'ReviewStepCompleted', data: { step: '审核', stepIndex: 1, action: 'PASS', opinion: '同意', nextStep: '批准' },
    }]);
    const state = given([...acceptedSep30, on('2026-10-08', stepPassed(0)), on('2026-10-08', stepPassed(1))]).when(step('批准', 'PASS')).then([{
      type: 'ReviewStepCompleted', data: { step: '批准', stepIndex: 2, action: 'PASS', opinion: '同意', nextStep: null },
    }]);
    expect(narrow(state, 'ACCEPTED').stepIndex).toBe(3);
  });

  it('refuses a step out of order', () => {
    given(acceptedSep30).when(step('审核', 'PASS')).thenThrows('INVALID_TRANSITION');
    given(acceptedSep30).when(step('批准', 'PASS')).thenThrows('INVALID_TRANSITION');
    given([...acceptedSep30, on('2026-10-08', stepPassed(0))]).when(step('承办', 'PASS')).thenThrows('INVALID_TRANSITION');
    given(acceptedSep30).when(step('不存在的环节', 'PASS')).thenThrows('INVALID_TRANSITION');
  });

  it('RETURN goes back one step, which must then pass again', () => {
    const history = [...acceptedSep30, on('2026-10-08', stepPassed(0))];
    const state = given(history).when(step('审核', 'RETURN')).then([{
      type: 'ReviewStepCompleted', data: { step: '审核', stepIndex: 1, action: 'RETURN', opinion: '材料需补充说明', nextStep: '承办' },
    }]);
    expect(narrow(state, 'ACCEPTED').stepIndex).toBe(0);
    const returned = [...history, on('2026-10-08', {
      type: 'ReviewStepCompleted', data: { step: '审核', stepIndex: 1, action: 'RETURN', opinion: '材料需补充说明', nextStep: '承办' },
    })];
    given(returned).when(step('审核', 'PASS')).thenThrows('INVALID_TRANSITION');
    given(returned).when(step('承办', 'PASS')).then([{
      type: 'ReviewStepCompleted', data: { step: '承办', stepIndex: 0, action: 'PASS', opinion: '同意', nextStep: '审核' },
    }]);
  });

  it('RETURN from the last step goes back to 审核', () => {
    given([...acceptedSep30, on('2026-10-08', stepPassed(0)), on('2026-10-08', stepPassed(1))]).when(step('批准', 'RETURN')).then([{
      type: 'ReviewStepCompleted', data: { step: '批准', stepIndex: 2, action: 'RETURN', opinion: '材料需补充说明', nextStep: '审核' },
    }]);
  });

  it('refuses RETURN on the first step', () => {
    given(acceptedSep30).when(step('承办', 'RETURN')).thenThrows('INVALID_TRANSITION');
  });

  it('refuses any step once every step has passed (record the decision instead)', () => {
    for (const name of ['承办', '审核', '批准'])
      for (const action of ['PASS', 'RETURN'] as const)
        given(readyToDecide).when(step(name, action)).thenThrows('INVALID_TRANSITION');
  });
});

// =============================================================================================
describe('SuspendCase / ResumeCase (特别程序, Art. 45)', () => {
  // Accepted Mon Sep 21: +10 working days = Sep 22, 23, 24, (25–27 中秋), 28, 29, 30, (Oct 1–7 国庆), Oct 8, 9, 10 (Sat), 12 → Mon Oct 12.
  const acceptedSep21: GivenEvent[] = [
    on('2026-09-21', submitted({ submittedAt: at('2026-09-21', '08:30:00') })),
    on('2026-09-21', accepted('2026-09-21', '2026-10-12')),
  ];
  const suspendedSep29 = [...acceptedSep21, on('2026-09-29', suspended('2026-09-29'), '16:00:00')];
  const resumedOct9: CaseResumed = {
    type: 'CaseResumed',
    data: { result: '现场核查合格', suspendedOn: '2026-09-29', resumedOn: '2026-10-09', pausedWorkingDays: 3, deadline: '2026-10-15' },
  };

  it('suspends with the procedure, its reason and expected length', () => {
    const state = given(acceptedSep21)
      .when(command('SuspendCase', { procedure: 'SITE_CHECK', reason: '需实地核查经营场所', expectedWorkingDays: 5 }, at('2026-09-29', '16:00:00')))
      .then([suspended('2026-09-29')]);
    const s = narrow(state, 'SUSPENDED');
    expect(s.suspension).toEqual({ procedure: 'SITE_CHECK', suspendedOn: '2026-09-29', suspendedAt: at('2026-09-29', '16:00:00') });
    expect(s.clock.deadline).toBe('2026-10-12');
  });

  it('needs the expected length (domain.md: "reason and expected length required")', () => {
    expect(CaseCommandSchemas.SuspendCase.safeParse({ procedure: 'HEARING', reason: '申请人要求听证' }).success).toBe(false);
    expect(CaseCommandSchemas.SuspendCase.safeParse({ procedure: 'HEARING', reason: '  ', expectedWorkingDays: 3 }).success).toBe(false);
    expect(CaseCommandSchemas.SuspendCase.safeParse({ procedure: 'HEARING', reason: '申请人要求听证', expectedWorkingDays: 3 }).success).toBe(true);
  });

  it('resumes across National Day: only the working days paused count, and the deadline moves by exactly them', () => {
    // Suspended Tue Sep 29, resumed Fri Oct 9: the paused working days are those after the
    // suspension day up to the resumption day: Sep 30, Oct 8, Oct 9 = 3 (not the 10 calendar days,
    // the 7 holidays of Oct 1–7 are not working days anyway).
    // Deadline: Oct 12 + 3 working days = Oct 13, 14, 15 → Thu Oct 15.
    const state = given(suspendedSep29)
      .when(command('ResumeCase', { result: '现场核查合格' }, at('2026-10-09', '11:00:00')))
      .then([resumedOct9]);
    const s = narrow(state, 'ACCEPTED');
    expect(s.clock.pausedDays).toBe(3);
    expect(s.clock.deadline).toBe('2026-10-15');
    expect(workingDaysBetween('2026-10-12', '2026-10-15')).toBe(3);
    expect('suspension' in s).toBe(false);
  });

  it('counts the Saturday make-up day as paused, and adds up a second suspension', () => {
    // Second suspension Fri Oct 9 → Mon Oct 12: Oct 10 (Sat, make-up) and Oct 12 = 2 working days.
    // Deadline: acceptance Sep 21 + 10 + 3 + 2 = Oct 15 + 2 = Oct 16, Oct 19 → Mon Oct 19.
    const history = [...suspendedSep29, on('2026-10-09', resumedOct9, '11:00:00'), on('2026-10-09', suspended('2026-10-09', 'HEARING'), '15:00:00')];
    const state = given(history)
      .when(command('ResumeCase', { result: '听证结束' }, at('2026-10-12')))
      .then([{
        type: 'CaseResumed',
        data: { result: '听证结束', suspendedOn: '2026-10-09', resumedOn: '2026-10-12', pausedWorkingDays: 2, deadline: '2026-10-19' },
      }]);
    expect(narrow(state, 'ACCEPTED').clock.pausedDays).toBe(5);
  });

  it('resumed the same day pauses nothing', () => {
    given(suspendedSep29).when(command('ResumeCase', { result: '当日完成' }, at('2026-09-29', '18:00:00'))).then([{
      type: 'CaseResumed',
      data: { result: '当日完成', suspendedOn: '2026-09-29', resumedOn: '2026-09-29', pausedWorkingDays: 0, deadline: '2026-10-12' },
    }]);
  });

  it('excludes the paused days from the working days used at decision', () => {
    // Sep 21 → Oct 15 is 13 working days (Sep 22, 23, 24, 28, 29, 30, Oct 8, 9, 10, 12, 13, 14, 15), 3 of them paused.
    given([...suspendedSep29, on('2026-10-09', resumedOct9, '11:00:00'), ...allStepsPassed('2026-10-14')])
      .when(command('DecideCase', { outcome: 'APPROVED', licenceNumber: 'JY15201020012345' }, at('2026-10-15', '17:00:00')))
      .then([{
        type: 'CaseDecided',
        data: { outcome: 'APPROVED', licenceNumber: 'JY15201020012345', decidedOn: '2026-10-15', deadline: '2026-10-15', onTime: true, workingDaysUsed: 10 },
      }]);
  });

  it('does not allow steps, decision, transfer or clock cards while suspended', () => {
    const now = at('2026-10-08');
    given(suspendedSep29).when(command('CompleteReviewStep', { step: '承办', action: 'PASS', opinion: '同意' }, now)).thenThrows('INVALID_TRANSITION');
    given(suspendedSep29).when(command('DecideCase', { outcome: 'DENIED', reason: '不符合条件' }, now)).thenThrows('INVALID_TRANSITION');
    given(suspendedSep29).when(command('TransferCase', { toDepartmentCode: OTHER_DEPARTMENT, reason: '转办' }, now)).thenThrows('INVALID_TRANSITION');
    given(suspendedSep29).when(command('SuspendCase', { procedure: 'HEARING', reason: '听证', expectedWorkingDays: 3 }, now)).thenThrows('INVALID_TRANSITION');
    given(suspendedSep29).when(command('MarkDeadlineExceeded', {}, at('2026-10-13'))).thenThrows('INVALID_TRANSITION');
  });

  it('extends while suspended; the resumption then adds its paused days on top', () => {
    // Extension of 10 on Sep 30 while suspended: Sep 21 + 20 working days = Oct 12 + 10 = Oct 13, 14, 15, 16, 19, 20, 21, 22, 23, 26 → Mon Oct 26.
    const extended: CaseEvent = { type: 'DeadlineExtended', data: { workingDays: 10, reason: '情况复杂', deadline: '2026-10-26' } };
    given(suspendedSep29).when(command('ExtendDeadline', { workingDays: 10, reason: '情况复杂' }, at('2026-09-30'))).then([extended]);
    // Resumed Oct 9 (3 paused): Oct 26 + 3 = Oct 27, 28, 29 → Thu Oct 29.
    given([...suspendedSep29, on('2026-09-30', extended)])
      .when(command('ResumeCase', { result: '现场核查合格' }, at('2026-10-09', '11:00:00')))
      .then([{ type: 'CaseResumed', data: { ...resumedOct9.data, deadline: '2026-10-29' } }]);
  });
});

// =============================================================================================
describe('ExtendDeadline (延长, Art. 42: at most 10 working days, once)', () => {
  it('extends by up to 10 working days: Oct 20 + 10 = Tue Nov 3', () => {
    // Oct 21, 22, 23, 26, 27, 28, 29, 30, Nov 2, Nov 3.
    const state = given(acceptedSep30)
      .when(command('ExtendDeadline', { workingDays: 10, reason: '需征求相关部门意见' }, at('2026-10-15')))
      .then([{ type: 'DeadlineExtended', data: { workingDays: 10, reason: '需征求相关部门意见', deadline: '2026-11-03' } }]);
    const s = narrow(state, 'ACCEPTED');
    expect(s.clock.extensionDays).toBe(10);
    expect(s.clock.deadline).toBe('2026-11-03');
  });

  it('extends by fewer days: Oct 20 + 5 = Tue Oct 27', () => {
    given(acceptedSep30).when(command('ExtendDeadline', { workingDays: 5, reason: '需专家论证' }, at('2026-10-15')))
      .then([{ type: 'DeadlineExtended', data: { workingDays: 5, reason: '需专家论证', deadline: '2026-10-27' } }]);
  });

  it('refuses a second extension', () => {
    given([...acceptedSep30, on('2026-10-15', { type: 'DeadlineExtended', data: { workingDays: 5, reason: '需专家论证', deadline: '2026-10-27' } })])
      .when(command('ExtendDeadline', { workingDays: 5, reason: '再延' }, at('2026-10-22')))
      .thenThrows('INVALID_TRANSITION');
  });

  it('refuses more than 10 days (decide validates; the schema too)', () => {
    given(acceptedSep30).when(command('ExtendDeadline', { workingDays: 11, reason: '情况复杂' }, at('2026-10-15'))).thenThrows('VALIDATION_FAILED');
    expect(CaseCommandSchemas.ExtendDeadline.safeParse({ workingDays: 11, reason: '情况复杂' }).success).toBe(false);
    expect(CaseCommandSchemas.ExtendDeadline.safeParse({ workingDays: 0, reason: '情况复杂' }).success).toBe(false);
  });
});

// =============================================================================================
describe('TransferCase (转办)', () => {
  it('moves the case to another department, keeping its clock', () => {
    const state = given(acceptedSep30)
      .when(command('TransferCase', { toDepartmentCode: OTHER_DEPARTMENT, reason: '属卫生健康局职责' }, at('2026-10-08')))
      .then([{ type: 'CaseTransferred', data: { fromDepartmentCode: DEPARTMENT, toDepartmentCode: OTHER_DEPARTMENT, reason: '属卫生健康局职责' } }]);
    const s = narrow(state, 'ACCEPTED');
    expect(s.departmentCode).toBe(OTHER_DEPARTMENT);
    expect(s.clock).toEqual(narrow(fold(acceptedSep30), 'ACCEPTED').clock);
  });

  it('refuses a transfer to the department that has it', () => {
    given(acceptedSep30).when(command('TransferCase', { toDepartmentCode: DEPARTMENT, reason: '转办' }, at('2026-10-08'))).thenThrows('VALIDATION_FAILED');
  });
});

// =============================================================================================
describe('DecideCase (办结)', () => {
  it('approves on the deadline day: on time, 10 working days used', () => {
    const state = given(readyToDecide)
      .when(command('DecideCase', { outcome: 'APPROVED', licenceNumber: 'JY15201020012345' }, at('2026-10-20', '17:30:00')))
      .then([{
        type: 'CaseDecided',
        data: {
          outcome: 'APPROVED', reason: undefined, licenceNumber: 'JY15201020012345', decidedOn: '2026-10-20',
          deadline: '2026-10-20', onTime: true, workingDaysUsed: 10,
        },
      }]);
    const s = narrow(state, 'COMPLETED');
    expect(s.decision).toEqual({
      outcome: 'APPROVED', decidedAt: at('2026-10-20', '17:30:00'), decidedOn: '2026-10-20', onTime: true, licenceNumber: 'JY15201020012345',
    });
  });

  it('decided the day after the deadline is late (11 working days used)', () => {
    given(readyToDecide)
      .when(command('DecideCase', { outcome: 'APPROVED', licenceNumber: 'JY15201020012345' }, at('2026-10-21')))
      .then([{
        type: 'CaseDecided',
        data: { outcome: 'APPROVED', licenceNumber: 'JY15201020012345', decidedOn: '2026-10-21', deadline: '2026-10-20', onTime: false, workingDaysUsed: 11 },
      }]);
  });

  it('denies with a reason; refuses a denial without one', () => {
    given(readyToDecide)
      .when(command('DecideCase', { outcome: 'DENIED', reason: '经营场所不符合食品安全要求' }, at('2026-10-16', '18:00:00')))
      .then([{
        type: 'CaseDecided',
        data: { outcome: 'DENIED', reason: '经营场所不符合食品安全要求', decidedOn: '2026-10-16', deadline: '2026-10-20', onTime: true, workingDaysUsed: 8 },
      }]);
    given(readyToDecide).when(command('DecideCase', { outcome: 'DENIED' }, at('2026-10-16', '18:00:00'))).thenThrows('VALIDATION_FAILED');
  });

  it('is INVALID_TRANSITION before the last step has passed', () => {
    const d = command('DecideCase', { outcome: 'APPROVED', licenceNumber: 'JY15201020012345' }, at('2026-10-16', '18:00:00'));
    given(acceptedSep30).when(d).thenThrows('INVALID_TRANSITION');
    given([...acceptedSep30, on('2026-10-16', stepPassed(0)), on('2026-10-16', stepPassed(1))]).when(d).thenThrows('INVALID_TRANSITION');
    // passed then returned from the last step
    given([...readyToDecide.slice(0, -1), on('2026-10-16', {
      type: 'ReviewStepCompleted', data: { step: '批准', stepIndex: 2, action: 'RETURN', opinion: '退回', nextStep: '审核' },
    })]).when(d).thenThrows('INVALID_TRANSITION');
  });

  it('refuses a second decision', () => {
    given([...readyToDecide, on('2026-10-16', decided('2026-10-16', '2026-10-20', 8), '18:00:00')])
      .when(command('DecideCase', { outcome: 'DENIED', reason: '改判' }, at('2026-10-19'))).thenThrows('INVALID_TRANSITION');
  });
});

// =============================================================================================
describe('DeliverResult (送达, Art. 44: within 10 working days)', () => {
  // Decided Tue Oct 20; delivery limit: Oct 21, 22, 23, 26, 27, 28, 29, 30, Nov 2, Nov 3 → Tue Nov 3.
  const completed = [...readyToDecide, on('2026-10-20', decided('2026-10-20', '2026-10-20', 10), '17:30:00')];

  it('delivered at the window on the last day is on time', () => {
    const state = given(completed).when(command('DeliverResult', { method: 'WINDOW' }, at('2026-11-03', '16:00:00'))).then([{
      type: 'ResultDelivered',
      data: {
        method: 'WINDOW', trackingNumber: undefined, licenceNumber: 'JY15201020012345', deliveredOn: '2026-11-03',
        deliveryDeadline: '2026-11-03', onTime: true,
      },
    }]);
    expect(narrow(state, 'DELIVERED').delivery).toEqual({ method: 'WINDOW', deliveredAt: at('2026-11-03', '16:00:00'), onTime: true });
  });

  it('delivered by express the day after is late', () => {
    given(completed).when(command('DeliverResult', { method: 'EXPRESS', trackingNumber: 'EMS1234567890CN' }, at('2026-11-04'))).then([{
      type: 'ResultDelivered',
      data: {
        method: 'EXPRESS', trackingNumber: 'EMS1234567890CN', licenceNumber: 'JY15201020012345', deliveredOn: '2026-11-04',
        deliveryDeadline: '2026-11-03', onTime: false,
      },
    }]);
  });

  it('delivers electronically with the licence', () => {
    given(completed).when(command('DeliverResult', { method: 'ELECTRONIC' }, at('2026-10-20', '18:00:00'))).then([{
      type: 'ResultDelivered',
      data: { method: 'ELECTRONIC', licenceNumber: 'JY15201020012345', deliveredOn: '2026-10-20', deliveryDeadline: '2026-11-03', onTime: true },
    }]);
  });

  it('refuses an express delivery without its tracking number', () => {
    given(completed).when(command('DeliverResult', { method: 'EXPRESS' }, at('2026-10-21'))).thenThrows('VALIDATION_FAILED');
  });
});

// =============================================================================================
describe('WithdrawCase (撤回)', () => {
  for (const status of ['SUBMITTED', 'CORRECTION_REQUESTED', 'ACCEPTED', 'SUSPENDED'] as const) {
    it(`withdraws from ${status}`, () => {
      const state = given(history(status))
        .when(command('WithdrawCase', { reason: '申请人主动撤回' }, NOW))
        .then([{ type: 'CaseWithdrawn', data: { reason: '申请人主动撤回', fromStatus: status } }]);
      const s = narrow(state, 'WITHDRAWN');
      expect(s.fromStatus).toBe(status);
      expect(s.withdrawnAt).toBe(NOW);
      expect('clock' in s).toBe(false);
    });
  }
  for (const status of ['COMPLETED', 'DELIVERED', 'REJECTED', 'WITHDRAWN', 'CORRECTION_EXPIRED'] as const) {
    it(`is refused once ${status}`, () => {
      given(history(status)).when(command('WithdrawCase', { reason: '撤回' }, NOW)).thenThrows('INVALID_TRANSITION');
    });
  }
});

// =============================================================================================
describe('EvaluateCase / CompleteRectification (好差评)', () => {
  const completed = [...readyToDecide, on('2026-10-20', decided('2026-10-20', '2026-10-20', 10), '17:30:00')];
  // A bad rating on Fri Oct 30: 5 working days to rectify = Nov 2, 3, 4, 5, 6 → Fri Nov 6.
  const badlyRated = [...completed, on('2026-10-30', evaluated(2, '2026-11-06'))];

  it('records a good rating without a rectification deadline', () => {
    const state = given(completed).when(command('EvaluateCase', { score: 5, comment: '办事效率高', channel: 'MOBILE' }, at('2026-10-30')))
      .then([{ type: 'CaseEvaluated', data: { score: 5, comment: '办事效率高', channel: 'MOBILE', bad: false, rectificationDeadline: undefined } }]);
    expect(state.status !== 'NONE' && state.evaluation).toEqual({ score: 5, comment: '办事效率高', bad: false, evaluatedAt: at('2026-10-30'), rectificationDeadline: undefined });
  });

  it('3 is not a bad rating', () => {
    given(completed).when(command('EvaluateCase', { score: 3 }, at('2026-10-30')))
      .then([{ type: 'CaseEvaluated', data: { score: 3, bad: false } }]);
  });

  it('1 and 2 are bad ratings (差评) with a rectification deadline', () => {
    for (const score of [1, 2])
      given(completed).when(command('EvaluateCase', { score, comment: '等待时间太长', channel: 'MOBILE' }, at('2026-10-30')))
        .then([evaluated(score, '2026-11-06')]);
  });

  it('rates a rejected case and a delivered one', () => {
    given([...filed(), on('2026-09-30', { type: 'CaseRejected', data: { reason: '不属于受理范围' } })])
      .when(command('EvaluateCase', { score: 1 }, at('2026-09-30', '15:00:00')))
      // Sep 30 + 5 = Oct 8, 9, 10, 12, 13 → Tue Oct 13
      .then([{ type: 'CaseEvaluated', data: { score: 1, bad: true, rectificationDeadline: '2026-10-13' } }]);
    given([...completed, on('2026-10-21', { type: 'ResultDelivered', data: { method: 'WINDOW', deliveredOn: '2026-10-21', deliveryDeadline: '2026-11-03', onTime: true } })])
      .when(command('EvaluateCase', { score: 4 }, at('2026-10-21', '15:00:00')))
      .then([{ type: 'CaseEvaluated', data: { score: 4, bad: false } }]);
  });

  it('allows one rating per case (一事一评)', () => {
    given(badlyRated).when(command('EvaluateCase', { score: 5 }, at('2026-11-02'))).thenThrows('INVALID_TRANSITION');
    given([...completed, on('2026-10-30', evaluated(5))]).when(command('EvaluateCase', { score: 1 }, at('2026-11-02'))).thenThrows('INVALID_TRANSITION');
  });

  it('rectification reported on the deadline day is on time', () => {
    const state = given(badlyRated).when(command('CompleteRectification', { reason: '增设周末窗口，缩短等候时间' }, at('2026-11-06', '17:00:00')))
      .then([{ type: 'RectificationCompleted', data: { reason: '增设周末窗口，缩短等候时间', rectificationDeadline: '2026-11-06', onTime: true } }]);
    expect(state.status !== 'NONE' && state.evaluation?.rectifiedAt).toBe(at('2026-11-06', '17:00:00'));
  });

  it('rectification reported after it is flagged late', () => {
    given(badlyRated).when(command('CompleteRectification', { reason: '已整改' }, at('2026-11-09')))
      .then([{ type: 'RectificationCompleted', data: { reason: '已整改', rectificationDeadline: '2026-11-06', onTime: false } }]);
  });

  it('refuses a rectification without a bad rating, and a second one', () => {
    given(completed).when(command('CompleteRectification', { reason: '已整改' }, at('2026-11-02'))).thenThrows('INVALID_TRANSITION');
    given([...completed, on('2026-10-30', evaluated(4))]).when(command('CompleteRectification', { reason: '已整改' }, at('2026-11-02'))).thenThrows('INVALID_TRANSITION');
    given([...badlyRated, on('2026-11-03', { type: 'RectificationCompleted', data: { reason: '已整改', rectificationDeadline: '2026-11-06', onTime: true } })])
      .when(command('CompleteRectification', { reason: '再次整改' }, at('2026-11-04'))).thenThrows('INVALID_TRANSITION');
  });
});

// =============================================================================================
describe('RaiseDeadlineWarning (yellow card) and MarkDeadlineExceeded (red card)', () => {
  // Deadline Tue Oct 20, limit 10: the warning zone is ≤ max(1, ceil(10 × 20%)) = 2 working days left, today included.
  const warning = (date: LocalDate, time?: string) => command('RaiseDeadlineWarning', {}, at(date, time));
  const exceeded = (date: LocalDate, time?: string) => command('MarkDeadlineExceeded', {}, at(date, time));
  const warned = [...acceptedSep30, on('2026-10-19', { type: 'DeadlineWarningRaised', data: { deadline: '2026-10-20', remainingWorkingDays: 2 } }, '01:00:00')];
  const red = [...acceptedSep30, on('2026-10-21', { type: 'DeadlineExceeded', data: { deadline: '2026-10-20', workingDaysOverdue: 1 } }, '01:00:00')];

  it('refuses a warning outside the zone (Fri Oct 16: Oct 16, 19, 20 = 3 left)', () => {
    given(acceptedSep30).when(warning('2026-10-16')).thenThrows('INVALID_TRANSITION');
    given(acceptedSep30).when(warning('2026-10-08')).thenThrows('INVALID_TRANSITION');
  });

  it('warns on Mon Oct 19 (2 left) and on the deadline day (1 left)', () => {
    const state = given(acceptedSep30).when(warning('2026-10-19', '01:00:00'))
      .then([{ type: 'DeadlineWarningRaised', data: { deadline: '2026-10-20', remainingWorkingDays: 2 } }]);
    expect(narrow(state, 'ACCEPTED').clock.warningRaised).toBe(true);
    given(acceptedSep30).when(warning('2026-10-20'))
      .then([{ type: 'DeadlineWarningRaised', data: { deadline: '2026-10-20', remainingWorkingDays: 1 } }]);
  });

  it('warns on the weekend before (Sat Oct 17 is a day off: Oct 19, 20 = 2 left)', () => {
    expect(isWorkingDay('2026-10-17')).toBe(false);
    given(acceptedSep30).when(warning('2026-10-17'))
      .then([{ type: 'DeadlineWarningRaised', data: { deadline: '2026-10-20', remainingWorkingDays: 2 } }]);
  });

  it('warns only once: a repeat decides nothing', () => {
    given(warned).when(warning('2026-10-20')).thenNothing();
  });

  it('refuses a warning past the deadline, and decides nothing once the red card is out', () => {
    given(acceptedSep30).when(warning('2026-10-21')).thenThrows('INVALID_TRANSITION');
    given(red).when(warning('2026-10-21')).thenNothing();
  });

  it('refuses the red card on the deadline day, up to its last minute', () => {
    given(acceptedSep30).when(exceeded('2026-10-20', '23:59:59')).thenThrows('INVALID_TRANSITION');
    given(acceptedSep30).when(exceeded('2026-10-12')).thenThrows('INVALID_TRANSITION');
  });

  it('raises the red card the day after, counting the working days overdue', () => {
    const state = given(acceptedSep30).when(exceeded('2026-10-21', '01:00:00'))
      .then([{ type: 'DeadlineExceeded', data: { deadline: '2026-10-20', workingDaysOverdue: 1 } }]);
    expect(narrow(state, 'ACCEPTED').clock.exceededRaised).toBe(true);
    given(warned).when(exceeded('2026-10-23'))
      .then([{ type: 'DeadlineExceeded', data: { deadline: '2026-10-20', workingDaysOverdue: 3 } }]);
  });

  it('raises the red card only once', () => {
    given(red).when(exceeded('2026-10-22')).thenNothing();
  });

  it('follows an extended deadline (Nov 3 after +10): no red card on Oct 21, warning zone of ceil(20 × 20%) = 4 days', () => {
    const ext = [...acceptedSep30, on('2026-10-15', { type: 'DeadlineExtended', data: { workingDays: 10, reason: '情况复杂', deadline: '2026-11-03' } })];
    given(ext).when(exceeded('2026-10-21')).thenThrows('INVALID_TRANSITION');
    // Thu Oct 29: Oct 29, 30, Nov 2, 3 = 4 left → in the zone; Wed Oct 28: 5 left → not.
    given(ext).when(warning('2026-10-28')).thenThrows('INVALID_TRANSITION');
    given(ext).when(warning('2026-10-29')).then([{ type: 'DeadlineWarningRaised', data: { deadline: '2026-11-03', remainingWorkingDays: 4 } }]);
  });
});

// =============================================================================================
describe('IssueSupervisionNotice / AnswerSupervisionNotice (督办)', () => {
  const issue = (date: LocalDate, noticeId = NOTICE_ID) =>
    command('IssueSupervisionNotice', { noticeId, content: '请说明办理进度', replyWithinWorkingDays: 5 }, at(date));
  // Issued Wed Sep 30: reply within 5 working days = Oct 8, 9, 10, 12, 13 → Tue Oct 13.
  const noticed = [...acceptedSep30, on('2026-09-30', noticeIssued('2026-10-13'), '15:00:00')];

  it('issues a notice on a case in processing with its reply deadline', () => {
    const state = given(acceptedSep30).when(issue('2026-09-30')).then([noticeIssued('2026-10-13')]);
    expect(state.status !== 'NONE' && state.notices).toEqual([{ noticeId: NOTICE_ID, content: '请说明办理进度', issuedAt: at('2026-09-30'), replyBy: '2026-10-13' }]);
  });

  for (const status of ['SUBMITTED', 'CORRECTION_REQUESTED', 'ACCEPTED', 'SUSPENDED', 'COMPLETED'] as const) {
    it(`issues on a non-terminal case (${status})`, () => {
      expect(given(history(status)).when(issue('2026-10-19', NEW_NOTICE)).events().map((e) => e.type)).toEqual(['SupervisionNoticeIssued']);
    });
  }
  for (const status of ['REJECTED', 'WITHDRAWN', 'CORRECTION_EXPIRED', 'DELIVERED'] as const) {
    it(`refuses a notice on a closed case (${status})`, () => {
      given(history(status)).when(issue('2026-10-19', NEW_NOTICE)).thenThrows('INVALID_TRANSITION');
    });
  }

  it('refuses a second notice with the same id', () => {
    given(noticed).when(issue('2026-10-08')).thenThrows('INVALID_TRANSITION');
  });

  it('answers on time by the reply day, late after it', () => {
    const state = given(noticed).when(command('AnswerSupervisionNotice', { noticeId: NOTICE_ID, answer: '已于10月12日完成审核' }, at('2026-10-13', '17:00:00')))
      .then([{ type: 'SupervisionNoticeAnswered', data: { noticeId: NOTICE_ID, answer: '已于10月12日完成审核', onTime: true } }]);
    expect(state.status !== 'NONE' && state.notices[0]?.answeredAt).toBe(at('2026-10-13', '17:00:00'));
    given(noticed).when(command('AnswerSupervisionNotice', { noticeId: NOTICE_ID, answer: '已办理' }, at('2026-10-14')))
      .then([{ type: 'SupervisionNoticeAnswered', data: { noticeId: NOTICE_ID, answer: '已办理', onTime: false } }]);
  });

  it('answers once only', () => {
    given([...noticed, on('2026-10-12', { type: 'SupervisionNoticeAnswered', data: { noticeId: NOTICE_ID, answer: '已办理', onTime: true } })])
      .when(command('AnswerSupervisionNotice', { noticeId: NOTICE_ID, answer: '补充说明' }, at('2026-10-13')))
      .thenThrows('INVALID_TRANSITION');
  });

  it('refuses an unknown noticeId', () => {
    given(noticed).when(command('AnswerSupervisionNotice', { noticeId: OTHER_NOTICE, answer: '已办理' }, at('2026-10-12'))).thenThrows('VALIDATION_FAILED');
    given(acceptedSep30).when(command('AnswerSupervisionNotice', { noticeId: NOTICE_ID, answer: '已办理' }, at('2026-10-12'))).thenThrows('VALIDATION_FAILED');
  });
});

// =============================================================================================
describe('EraseApplicantData (crypto-shredding)', () => {
  it('appends the erasure once, leaving nothing personal in the state', () => {
    const state = given(acceptedSep30).when(command('EraseApplicantData', { legalBasis: '个人信息保护法第47条：申请人要求删除' }, at('2026-10-08')))
      .then([{ type: 'ApplicantDataErased', data: { legalBasis: '个人信息保护法第47条：申请人要求删除' } }]);
    const s = narrow(state, 'ACCEPTED');
    expect(s.applicantErased).toBe(true);
    expect(s.applicant).toEqual({ name: '', idType: '111', idNumber: '' });
  });

  it('then decides nothing', () => {
    given([...acceptedSep30, on('2026-10-08', { type: 'ApplicantDataErased', data: { legalBasis: '依申请删除' } })])
      .when(command('EraseApplicantData', { legalBasis: '再次申请' }, at('2026-10-09')))
      .thenNothing();
  });
});

// =============================================================================================
// The transition table: every command type × every status. Each status has one representative
// history on the main timeline (filed Sep 29, accepted Sep 30 with deadline Oct 20, a supervision
// notice issued right after filing); a command is sent at NOW (Mon Oct 19, in the warning zone)
// unless its row says otherwise, with data the schema accepts, so a refusal can only be the state's.

const NOW: Instant = at('2026-10-19', '10:00:00');

const allStatuses = [
  'NONE', 'SUBMITTED', 'CORRECTION_REQUESTED', 'ACCEPTED', 'SUSPENDED', 'COMPLETED', 'DELIVERED', 'REJECTED', 'WITHDRAWN',
  'CORRECTION_EXPIRED',
] as const satisfies readonly CaseStatus[];
const statusesAreAll: [Exclude<CaseStatus, (typeof allStatuses)[number]>] extends [never] ? true : false = true;

type HistoryOptions = { readonly stepsPassed?: boolean; readonly badRating?: boolean };

function history(status: CaseStatus, o: HistoryOptions = {}): GivenEvent[] {
  const notice = on('2026-09-29', noticeIssued('2026-10-12'), '10:00:00');
  const sub = [...filed(), notice];
  const correcting = [...filed(incompleteMaterials()), notice, on('2026-09-29', correctionRequested('2026-10-12'), '11:00:00')];
  const acc = [...sub, on('2026-09-30', accepted('2026-09-30', '2026-10-20')), ...(o.stepsPassed ? allStepsPassed('2026-10-08') : [])];
  const completed = [...sub, on('2026-09-30', accepted('2026-09-30', '2026-10-20')), ...allStepsPassed('2026-10-08'), on('2026-10-16', decided('2026-10-16', '2026-10-20', 8))];
  // Oct 16 + 5 working days = Oct 19, 20, 21, 22, 23.
  const rating = o.badRating ? [on('2026-10-16', evaluated(1, '2026-10-23'), '18:00:00')] : [];
  switch (status) {
    case 'NONE': return [];
    case 'SUBMITTED': return sub;
    case 'CORRECTION_REQUESTED': return correcting;
    case 'ACCEPTED': return acc;
    case 'SUSPENDED': return [...acc, on('2026-10-09', suspended('2026-10-09'), '15:00:00')];
    case 'COMPLETED': return [...completed, ...rating];
    case 'DELIVERED': return [...completed, on('2026-10-16', {
      type: 'ResultDelivered', data: { method: 'WINDOW', licenceNumber: 'JY15201020012345', deliveredOn: '2026-10-16', deliveryDeadline: '2026-10-30', onTime: true },
    }, '16:00:00'), ...rating];
    case 'REJECTED': return [...sub, on('2026-09-30', { type: 'CaseRejected', data: { reason: '不属于受理范围' } }), ...rating];
    case 'WITHDRAWN': return [...sub, on('2026-09-30', { type: 'CaseWithdrawn', data: { reason: '撤回', fromStatus: 'SUBMITTED' } })];
    case 'CORRECTION_EXPIRED': return [...correcting, on('2026-10-13', { type: 'CorrectionExpired', data: { deadline: '2026-10-12' } }, '01:00:00')];
    default: {
      const never: never = status;
      return never;
    }
  }
}

type Row<T extends CaseCommandType> = {
  readonly allowed: readonly CaseStatus[];
  readonly produces: CaseEventType;
  readonly data: CaseCommandData<T>;
  readonly now?: Instant;
  readonly history?: HistoryOptions;
};

const PRE_DECISION = ['SUBMITTED', 'CORRECTION_REQUESTED', 'ACCEPTED', 'SUSPENDED'] as const;
const NON_TERMINAL = [...PRE_DECISION, 'COMPLETED'] as const;
const EXISTING = allStatuses.filter((s) => s !== 'NONE');

const table: { readonly [T in CaseCommandType]: Row<T> } = {
  SubmitCase: {
    allowed: ['NONE'], produces: 'CaseSubmitted',
    data: { caseId: submitted().data.caseId, caseNumber: submitted().data.caseNumber, item: serviceItem(), applicant: applicant(), materials: completeMaterials(), channel: 'PC', ownerId: 'user-zhangsan' },
  },
  RequestCorrection: { allowed: ['SUBMITTED'], produces: 'CorrectionRequested', data: { missingMaterials: [MATERIAL_LICENCE], reason: '缺营业执照复印件' } },
  SupplyCorrection: { allowed: ['CORRECTION_REQUESTED'], produces: 'CorrectionSupplied', data: { materials: [{ name: MATERIAL_LICENCE, provided: true }] } },
  ExpireCorrection: { allowed: ['CORRECTION_REQUESTED'], produces: 'CorrectionExpired', data: {} },
  AcceptCase: { allowed: ['SUBMITTED'], produces: 'CaseAccepted', data: {} },
  RejectCase: { allowed: ['SUBMITTED'], produces: 'CaseRejected', data: { reason: '不属于受理范围' } },
  CompleteReviewStep: { allowed: ['ACCEPTED'], produces: 'ReviewStepCompleted', data: { step: '承办', action: 'PASS', opinion: '同意' } },
  SuspendCase: { allowed: ['ACCEPTED'], produces: 'CaseSuspended', data: { procedure: 'EXPERT_REVIEW', reason: '专家评审', expectedWorkingDays: 5 } },
  ResumeCase: { allowed: ['SUSPENDED'], produces: 'CaseResumed', data: { result: '评审通过' } },
  ExtendDeadline: { allowed: ['ACCEPTED', 'SUSPENDED'], produces: 'DeadlineExtended', data: { workingDays: 10, reason: '情况复杂' } },
  TransferCase: { allowed: ['ACCEPTED'], produces: 'CaseTransferred', data: { toDepartmentCode: OTHER_DEPARTMENT, reason: '转办' } },
  DecideCase: {
    allowed: ['ACCEPTED'], produces: 'CaseDecided', history: { stepsPassed: true },
    data: { outcome: 'APPROVED', licenceNumber: 'JY15201020012345' },
  },
  DeliverResult: { allowed: ['COMPLETED'], produces: 'ResultDelivered', data: { method: 'WINDOW' } },
  WithdrawCase: { allowed: PRE_DECISION, produces: 'CaseWithdrawn', data: { reason: '申请人撤回' } },
  EvaluateCase: { allowed: ['COMPLETED', 'DELIVERED', 'REJECTED'], produces: 'CaseEvaluated', data: { score: 4 } },
  // A bad rating exists only where a rating is possible; elsewhere there is nothing to rectify.
  CompleteRectification: {
    allowed: ['COMPLETED', 'DELIVERED', 'REJECTED'], produces: 'RectificationCompleted', history: { badRating: true },
    data: { reason: '已整改' },
  },
  RaiseDeadlineWarning: { allowed: ['ACCEPTED'], produces: 'DeadlineWarningRaised', data: {} },
  MarkDeadlineExceeded: { allowed: ['ACCEPTED'], produces: 'DeadlineExceeded', data: {}, now: at('2026-10-21') },
  IssueSupervisionNotice: {
    allowed: NON_TERMINAL, produces: 'SupervisionNoticeIssued',
    data: { noticeId: NEW_NOTICE, content: '请加快办理', replyWithinWorkingDays: 3 },
  },
  // every representative history has the notice NOTICE_ID, unanswered
  AnswerSupervisionNotice: { allowed: EXISTING, produces: 'SupervisionNoticeAnswered', data: { noticeId: NOTICE_ID, answer: '已办理' } },
  FlagRectificationOverdue: {
    allowed: ['COMPLETED', 'DELIVERED', 'REJECTED'], produces: 'RectificationOverdue', history: { badRating: true },
    data: {}, now: at('2026-10-26'),
  },
  // NOTICE_ID's reply date (2026-10-12) has passed at NOW
  FlagSupervisionNoticeOverdue: { allowed: EXISTING, produces: 'SupervisionNoticeOverdue', data: { noticeId: NOTICE_ID } },
  EraseApplicantData: { allowed: EXISTING, produces: 'ApplicantDataErased', data: { legalBasis: '依申请删除' } },
};

describe('the transition table: every command type × every status', () => {
  it('covers every command type and every status', () => {
    expect(statusesAreAll).toBe(true);
    expect(Object.keys(table).sort()).toEqual([...caseCommandTypes].sort());
    for (const status of allStatuses) expect(fold(history(status)).status).toBe(status);
  });

  for (const type of caseCommandTypes) {
    const row = table[type] as Row<CaseCommandType>;
    describe(type, () => {
      it('has data the schema accepts', () => {
        expect(CaseCommandSchemas[type].safeParse(row.data).success).toBe(true);
      });
      for (const status of allStatuses) {
        const allowed = row.allowed.includes(status);
        it(`${allowed ? 'is allowed' : 'is INVALID_TRANSITION'} in ${status}`, () => {
          const events = history(status, row.history);
          expect(fold(events).status).toBe(status);
          const when = given(events).when(command(type, row.data, row.now ?? NOW));
          if (allowed) expect(when.events().map((e) => e.type)).toEqual([row.produces]);
          else when.thenThrows('INVALID_TRANSITION');
        });
      }
    });
  }
});

// =============================================================================================
describe('evolve', () => {
  const samples: { readonly [T in CaseEventType]: Extract<CaseEvent, { type: T }> } = {
    CaseSubmitted: submitted(),
    CorrectionRequested: correctionRequested('2026-10-12') as Extract<CaseEvent, { type: 'CorrectionRequested' }>,
    CorrectionSupplied: { type: 'CorrectionSupplied', data: { materials: [{ name: MATERIAL_LICENCE, provided: true }], stillMissing: [] } },
    CorrectionExpired: { type: 'CorrectionExpired', data: { deadline: '2026-10-12' } },
    CaseAccepted: accepted('2026-09-30', '2026-10-20') as Extract<CaseEvent, { type: 'CaseAccepted' }>,
    CaseRejected: { type: 'CaseRejected', data: { reason: '不属于受理范围' } },
    ReviewStepCompleted: stepPassed(2) as Extract<CaseEvent, { type: 'ReviewStepCompleted' }>,
    CaseSuspended: suspended('2026-10-09') as Extract<CaseEvent, { type: 'CaseSuspended' }>,
    CaseResumed: { type: 'CaseResumed', data: { result: '完成', suspendedOn: '2026-10-09', resumedOn: '2026-10-12', pausedWorkingDays: 2, deadline: '2026-10-22' } },
    DeadlineExtended: { type: 'DeadlineExtended', data: { workingDays: 10, reason: '复杂', deadline: '2026-11-03' } },
    CaseTransferred: { type: 'CaseTransferred', data: { fromDepartmentCode: DEPARTMENT, toDepartmentCode: OTHER_DEPARTMENT, reason: '转办' } },
    CaseDecided: decided('2026-10-16', '2026-10-20', 8) as Extract<CaseEvent, { type: 'CaseDecided' }>,
    ResultDelivered: { type: 'ResultDelivered', data: { method: 'WINDOW', deliveredOn: '2026-10-16', deliveryDeadline: '2026-10-30', onTime: true } },
    CaseWithdrawn: { type: 'CaseWithdrawn', data: { reason: '撤回', fromStatus: 'ACCEPTED' } },
    CaseEvaluated: evaluated(1, '2026-10-23') as Extract<CaseEvent, { type: 'CaseEvaluated' }>,
    RectificationCompleted: { type: 'RectificationCompleted', data: { reason: '已整改', rectificationDeadline: '2026-10-23', onTime: true } },
    DeadlineWarningRaised: { type: 'DeadlineWarningRaised', data: { deadline: '2026-10-20', remainingWorkingDays: 2 } },
    DeadlineExceeded: { type: 'DeadlineExceeded', data: { deadline: '2026-10-20', workingDaysOverdue: 1 } },
    SupervisionNoticeIssued: noticeIssued('2026-10-12', NEW_NOTICE) as Extract<CaseEvent, { type: 'SupervisionNoticeIssued' }>,
    SupervisionNoticeAnswered: { type: 'SupervisionNoticeAnswered', data: { noticeId: NOTICE_ID, answer: '已办理', onTime: true } },
    RectificationOverdue: { type: 'RectificationOverdue', data: { rectificationDeadline: '2026-10-23' } },
    SupervisionNoticeOverdue: { type: 'SupervisionNoticeOverdue', data: { noticeId: NOTICE_ID, replyBy: '2026-10-12' } },
    ApplicantDataErased: { type: 'ApplicantDataErased', data: { legalBasis: '依申请删除' } },
  };

  it('has a sample of every event type', () => {
    expect(Object.keys(samples).sort()).toEqual([...caseEventTypes].sort());
  });

  for (const status of allStatuses) {
    it(`never throws for any event type in ${status} (nor in its variants)`, () => {
      const variants = [history(status), history(status, { stepsPassed: true }), history(status, { badRating: true })];
      for (const events of variants) {
        const state = fold(events);
        for (const type of caseEventTypes) {
          let next: CaseState | undefined;
          expect(() => { next = evolve(state, samples[type], NOW); }, `${type} in ${status}`).not.toThrow();
          expect(allStatuses, `${type} in ${status}`).toContain(next?.status);
        }
      }
    });
  }

  it('leaves the initial state alone for anything but CaseSubmitted', () => {
    for (const type of caseEventTypes) {
      if (type === 'CaseSubmitted') continue;
      expect(evolve(initialCaseState(), samples[type], NOW)).toEqual({ status: 'NONE' });
    }
  });

  it('folds the sample stream of a whole case to DELIVERED, counting the working days of Oct 2026 right', () => {
    expect(addWorkingDays('2026-09-30', 10)).toBe('2026-10-20');
    const state = fold([...history('DELIVERED'), on('2026-10-19', evaluated(5))]);
    const s = narrow(state, 'DELIVERED');
    expect(s.decision.onTime).toBe(true);
    expect(s.evaluation?.bad).toBe(false);
    expect(s.notices.map((n) => n.noticeId)).toEqual([NOTICE_ID]);
  });
});

describe('电子监察 flags: overdue rectification and unanswered 督办 notices', () => {
  const rated = [...history('DELIVERED', { badRating: true })];
  it('flags a bad rating once, only after its rectification limit', () => {
    given(rated).when(command('FlagRectificationOverdue', {}, at('2026-10-23'))).thenThrows('INVALID_TRANSITION');
    given(rated).when(command('FlagRectificationOverdue', {}, at('2026-10-26')))
      .then([{ type: 'RectificationOverdue', data: { rectificationDeadline: '2026-10-23' } }]);
    given([...rated, on('2026-10-26', { type: 'RectificationOverdue', data: { rectificationDeadline: '2026-10-23' } })])
      .when(command('FlagRectificationOverdue', {}, at('2026-10-27'))).thenNothing();
    given([...rated, on('2026-10-20', { type: 'RectificationCompleted', data: { reason: '已整改', rectificationDeadline: '2026-10-23', onTime: true } })])
      .when(command('FlagRectificationOverdue', {}, at('2026-10-26'))).thenThrows('INVALID_TRANSITION');
  });
  it('flags an unanswered notice once, only after its reply date; an answered one never', () => {
    const h = history('ACCEPTED');
    given(h).when(command('FlagSupervisionNoticeOverdue', { noticeId: NOTICE_ID }, at('2026-10-12'))).thenThrows('INVALID_TRANSITION');
    given(h).when(command('FlagSupervisionNoticeOverdue', { noticeId: NOTICE_ID }, at('2026-10-13')))
      .then([{ type: 'SupervisionNoticeOverdue', data: { noticeId: NOTICE_ID, replyBy: '2026-10-12' } }]);
    given([...h, on('2026-10-13', { type: 'SupervisionNoticeOverdue', data: { noticeId: NOTICE_ID, replyBy: '2026-10-12' } })])
      .when(command('FlagSupervisionNoticeOverdue', { noticeId: NOTICE_ID }, at('2026-10-14'))).thenNothing();
    given([...h, on('2026-10-09', { type: 'SupervisionNoticeAnswered', data: { noticeId: NOTICE_ID, answer: '已办', onTime: true } })])
      .when(command('FlagSupervisionNoticeOverdue', { noticeId: NOTICE_ID }, at('2026-10-14'))).thenThrows('INVALID_TRANSITION');
    given(h).when(command('FlagSupervisionNoticeOverdue', { noticeId: NEW_NOTICE }, at('2026-10-14'))).thenThrows('VALIDATION_FAILED');
  });
});
