import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseCommandTypes, type CaseCommand, type CaseCommandType } from '../../domain/case/commands.ts';
import { decide } from '../../domain/case/decide.ts';
import type { CaseEvent } from '../../domain/case/events.ts';
import { evolve, initialCaseState, terminalStatuses, type CaseState } from '../../domain/case/state.ts';
import { GovcaseError } from '../../domain/errors.ts';
import type { Instant } from '../../domain/time.ts';
import {
  applicant, CASE_ID, CASE_NUMBER, completeMaterials, DEPARTMENT, incompleteMaterials, MATERIAL_LICENCE, OTHER_DEPARTMENT, OWNER, serviceItem,
} from '../support/givenWhenThen.ts';

/**
 * The case decider under property tests: random sequences of commands (any command, any order, data
 * right or wrong in the ways a client can get it wrong, time moving forward by random days through
 * 2026) are decided and folded, and after every step the lifecycle's invariants hold:
 * - `decide` only ever refuses with a GovcaseError (never a TypeError or the like), and is pure;
 * - every event it emits is one `evolve` accepts (the state changes): decider and fold agree;
 * - the version only grows; a case's identity never changes once filed;
 * - a terminal case stays terminal, and after it only the events the rules allow (rating, its
 *   rectification, erasure, answers to earlier 督办 notices) are recorded;
 * - the deadline is never before acceptance; the step index stays within the item's steps; a case is
 *   rated at most once; a completed or delivered case carries its decision.
 */
const ITEM = serviceItem();
const STEPS = [...ITEM.steps, '不存在的步骤'];
const NOTICES = ['7d4c2b1a-3e5f-4a6b-8c7d-9e0f1a2b3c4d', '2f1e0d9c-8b7a-4654-a321-0fedcba98765'];

const dataFor = (type: CaseCommandType, v: number): Record<string, unknown> | null => {
  switch (type) {
    case 'SubmitCase':
      return { caseId: CASE_ID, caseNumber: CASE_NUMBER, item: ITEM, applicant: applicant(), materials: v % 3 === 0 ? incompleteMaterials() : completeMaterials(), channel: 'PC', ownerId: OWNER };
    case 'RequestCorrection': return { missingMaterials: [MATERIAL_LICENCE], reason: '请补正' };
    case 'SupplyCorrection': return { materials: [{ name: MATERIAL_LICENCE, provided: v % 4 !== 0 }] };
    case 'ExpireCorrection': case 'AcceptCase': case 'RaiseDeadlineWarning': case 'MarkDeadlineExceeded': case 'FlagRectificationOverdue':
      return {};
    case 'RejectCase': case 'WithdrawCase': case 'CompleteRectification': return { reason: '理由' };
    case 'CompleteReviewStep': return { step: STEPS[v % STEPS.length], action: v % 5 === 0 ? 'RETURN' : 'PASS', opinion: '意见' };
    case 'SuspendCase': return { procedure: 'SITE_CHECK', reason: '核查', expectedWorkingDays: 1 + (v % 10) };
    case 'ResumeCase': return { result: '核查合格' };
    case 'ExtendDeadline': return { workingDays: 1 + (v % 12), reason: '延期' }; // 11 and 12 are past the legal maximum
    case 'TransferCase': return { toDepartmentCode: v % 3 === 0 ? DEPARTMENT : OTHER_DEPARTMENT, reason: '移交' };
    case 'DecideCase': return { outcome: v % 3 === 0 ? 'DENIED' : 'APPROVED', ...(v % 2 === 0 ? { reason: '理由' } : {}), licenceNumber: 'JY1' };
    case 'DeliverResult': return { method: (['WINDOW', 'EXPRESS', 'ELECTRONIC'] as const)[v % 3], ...(v % 2 === 0 ? { trackingNumber: 'SF1' } : {}) };
    case 'EvaluateCase': return { score: 1 + (v % 5) };
    case 'IssueSupervisionNotice': return { noticeId: NOTICES[v % 2], content: '请说明进度', replyWithinWorkingDays: 1 + (v % 5) };
    case 'AnswerSupervisionNotice': return { noticeId: NOTICES[v % 2], answer: '已处理' };
    case 'FlagSupervisionNoticeOverdue': return { noticeId: NOTICES[v % 2] };
    case 'EraseApplicantData': return { legalBasis: '个人信息保护法第四十七条' };
    default: return null; // a command added later: not generated until it is described here
  }
};
const KNOWN = caseCommandTypes.filter((t) => dataFor(t, 0) !== null);

/** Events that may still be recorded on a case that has reached a terminal status. */
const AFTER_TERMINAL = new Set(['CaseEvaluated', 'RectificationCompleted', 'RectificationOverdue', 'ApplicantDataErased', 'SupervisionNoticeAnswered', 'SupervisionNoticeOverdue']);

const dayAfter = (start: number, days: number): Instant => {
  const d = new Date(start + days * 86_400_000);
  return `${d.toISOString().slice(0, 10)}T10:00:00+08:00`;
};
const START = Date.parse('2026-01-05T00:00:00Z');

const stepArb = fc.record({
  type: fc.constantFrom(...KNOWN),
  days: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 25 })),
  variant: fc.nat(1_000),
});

/** submit (complete) → accept → 承办, 审核, 批准 passed → approved → delivered (variants chosen for that, see dataFor) */
type Step = { type: CaseCommandType; days: number; variant: number };
const HAPPY_PATH: Step[] = ([
  { type: 'SubmitCase', days: 0, variant: 1 }, { type: 'AcceptCase', days: 1, variant: 0 },
  { type: 'CompleteReviewStep', days: 1, variant: 4 }, { type: 'CompleteReviewStep', days: 1, variant: 1 },
  { type: 'CompleteReviewStep', days: 1, variant: 2 }, { type: 'DecideCase', days: 1, variant: 1 }, { type: 'DeliverResult', days: 1, variant: 0 },
] satisfies Step[]).filter((s) => KNOWN.includes(s.type));

type Violation = string | null;

const checkStep = (before: CaseState, after: CaseState, events: readonly CaseEvent[], versionBefore: number, versionAfter: number): Violation => {
  if (versionAfter < versionBefore) return 'version went down';
  if (before.status !== 'NONE' && after.status !== 'NONE' && (before.caseId !== after.caseId || before.caseNumber !== after.caseNumber)) return 'identity changed';
  if (terminalStatuses.includes(before.status)) {
    if (after.status !== before.status) return `terminal ${before.status} became ${after.status}`;
    const bad = events.find((e) => !AFTER_TERMINAL.has(e.type));
    if (bad) return `${bad.type} recorded after terminal ${before.status}`;
  }
  if (after.status === 'NONE') return events.length > 0 ? 'events recorded but no case' : null;
  if ('clock' in after && after.clock) {
    if (after.clock.deadline < after.clock.acceptedOn) return `deadline ${after.clock.deadline} before acceptance ${after.clock.acceptedOn}`;
  }
  if ('stepIndex' in after && (after.stepIndex < 0 || after.stepIndex > after.item.steps.length)) return `step index ${after.stepIndex} outside the steps`;
  if ((after.status === 'COMPLETED' || after.status === 'DELIVERED') && !('decision' in after && after.decision)) return `${after.status} without a decision`;
  if (before.status !== 'NONE' && before.evaluation && after.evaluation?.score !== before.evaluation.score) return 'rated twice';
  return null;
};

describe('the case decider under random command sequences', () => {
  it('never throws anything but a GovcaseError and never breaks the lifecycle invariants', () => {
    let decided = 0;
    let refused = 0;
    const statuses = new Set<string>();
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: HAPPY_PATH.length }), (steps, prefix) => {
        let state: CaseState = initialCaseState();
        let version = -1;
        let days = 0;
        // a part of the usual path first, so random commands also land on decided and delivered cases
        const all = [...HAPPY_PATH.slice(0, prefix), ...steps];
        for (const step of all) {
          days = Math.min(days + step.days, 350); // the calendar has data for 2025 and 2026
          const now = dayAfter(START, days);
          const command = { type: step.type, data: dataFor(step.type, step.variant), metadata: { now } } as unknown as CaseCommand;
          let events: CaseEvent[];
          try {
            events = decide(command, state);
          } catch (err) {
            if (!(err instanceof GovcaseError)) throw new Error(`${step.type} in ${state.status} threw ${(err as Error).name}: ${(err as Error).message}`);
            refused++;
            continue;
          }
          expect(decide(command, state), 'decide is pure').toEqual(events);
          decided++;
          let next = state;
          for (const e of events) {
            const folded = evolve(next, e, now);
            if (folded === next) throw new Error(`evolve ignored ${e.type} that decide emitted in ${next.status}`);
            next = folded;
          }
          const violation = checkStep(state, next, events, version, version + events.length);
          if (violation) throw new Error(`${step.type} (variant ${step.variant}) in ${state.status}: ${violation}`);
          version += events.length;
          state = next;
          statuses.add(state.status);
        }
      }),
      { numRuns: Number(process.env.DECIDER_RUNS ?? 3_000), seed: process.env.DECIDER_SEED ? Number(process.env.DECIDER_SEED) : undefined },
    );
    // the generator reaches deep into the lifecycle, not only refusals at the door
    expect(decided).toBeGreaterThan(1_000);
    expect(refused).toBeGreaterThan(0);
    for (const s of ['SUBMITTED', 'CORRECTION_REQUESTED', 'ACCEPTED', 'SUSPENDED', 'COMPLETED', 'DELIVERED', 'REJECTED', 'WITHDRAWN']) expect(statuses).toContain(s);
  });
});
