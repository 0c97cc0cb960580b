import type { CaseCommandData, CaseCommandType } from '../../domain/case/commands.ts';
import { decide } from '../../domain/case/decide.ts';
import { evolve, initialCaseState, type CaseState } from '../../domain/case/state.ts';
import type { HistoryEvent } from '../../domain/exchange/mapping.ts';
import { applicant, at, CASE_ID, CASE_NUMBER, command, completeMaterials, serviceItem } from '../support/givenWhenThen.ts';

/** Drives a case through the real decider and records the history the mapping reads. */
export const drive = () => {
  let state: CaseState = initialCaseState();
  const history: HistoryEvent[] = [];
  const api = {
    history,
    get state() { return state; },
    run<T extends CaseCommandType>(type: T, data: CaseCommandData<T>, date: string, actorId = 'clerk-1', time = '10:00:00') {
      const now = at(date, time);
      for (const event of decide(command(type, data, now), state)) {
        state = evolve(state, event, now);
        history.push({ revision: history.length, event, occurredAt: now, actorId });
      }
      return api;
    },
  };
  return api;
};

export const ITEM = serviceItem({
  basicCode: '000117001000', implementationCode: '11520102MB1234567X400011', handlingItemCode: '115201020000000000400011700101',
  departmentCreditCode: '11520102MB1234567X',
});

export const submit = (d = drive(), overrides: Partial<CaseCommandData<'SubmitCase'>> = {}) =>
  d.run('SubmitCase', {
    caseId: CASE_ID, caseNumber: CASE_NUMBER, item: ITEM, applicant: applicant(), materials: completeMaterials(), channel: 'PC',
    ownerId: 'user-zhangsan', ...overrides,
  } as CaseCommandData<'SubmitCase'>, '2026-09-29', 'user-zhangsan', '09:30:15');
