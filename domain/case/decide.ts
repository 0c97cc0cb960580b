import { addWorkingDays, workingDaysBetween } from '../calendar/index.ts';
import { invalidTransition, validationFailed } from '../errors.ts';
import { localDateOf } from '../time.ts';
import type { CaseCommand, CaseCommandOf } from './commands.ts';
import {
  computeDeadline, DELIVERY_LIMIT_DAYS, MAX_EXTENSION_DAYS, pausedWorkingDays, remainingWorkingDays, warningThreshold,
} from './deadline.ts';
import type { CaseEvent } from './events.ts';
import { isTerminal, missingMaterials, type CaseState, type CaseStatus, type ExistingCase } from './state.ts';

/**
 * The case decider: (command, state) → the events that record it, or a coded refusal. Pure: time
 * comes in as `command.metadata.now`, ids in the command's data, the calendar is data.
 * Who may issue a command is the permission policy's question (permissions.ts), asked before this.
 */
export const decide = (command: CaseCommand, state: CaseState): CaseEvent[] => {
  const now = command.metadata.now;
  const today = localDateOf(now);

  if (command.type === 'SubmitCase') {
    if (state.status !== 'NONE') throw invalidTransition('the case already exists', { status: state.status });
    const d = command.data;
    return [{
      type: 'CaseSubmitted',
      data: {
        caseId: d.caseId, caseNumber: d.caseNumber, item: d.item, departmentCode: d.item.departmentCode,
        regionCode: d.item.regionCode, applicant: d.applicant, materials: d.materials, channel: d.channel,
        formData: d.formData, ownerId: d.ownerId, submittedAt: now,
      },
    }];
  }
  if (state.status === 'NONE') throw invalidTransition('the case does not exist', { command: command.type });

  switch (command.type) {
    case 'RequestCorrection': {
      const s = expect(state, command, 'SUBMITTED');
      if (s.correctionRequested)
        throw invalidTransition('一次性告知: the missing materials were already listed once for this case', { status: s.status });
      return [{
        type: 'CorrectionRequested',
        data: {
          missingMaterials: command.data.missingMaterials, reason: command.data.reason,
          deadline: addWorkingDays(today, s.item.correctionLimitDays),
        },
      }];
    }
    case 'SupplyCorrection': {
      const s = expect(state, command, 'CORRECTION_REQUESTED');
      const supplied = new Set(command.data.materials.filter((m) => m.provided).map((m) => m.name));
      return [{
        type: 'CorrectionSupplied',
        data: { materials: command.data.materials, stillMissing: s.correction.missing.filter((m) => !supplied.has(m)) },
      }];
    }
    case 'ExpireCorrection': {
      const s = expect(state, command, 'CORRECTION_REQUESTED');
      if (today <= s.correction.deadline)
        throw invalidTransition('the correction limit has not passed yet', { deadline: s.correction.deadline });
      return [{ type: 'CorrectionExpired', data: { deadline: s.correction.deadline } }];
    }
    case 'AcceptCase': {
      const s = expect(state, command, 'SUBMITTED');
      const missing = missingMaterials(s.item, s.materials);
      if (missing.length > 0)
        throw invalidTransition('required materials are missing: request a correction or reject', { missing });
      const clock = {
        acceptedOn: today, caseType: s.item.caseType, limitDays: s.item.promisedLimitDays, extensionDays: 0, pausedDays: 0,
      };
      return [{
        type: 'CaseAccepted',
        data: { acceptedOn: today, caseType: clock.caseType, limitDays: clock.limitDays, deadline: computeDeadline(clock) },
      }];
    }
    case 'RejectCase':
      expect(state, command, 'SUBMITTED');
      return [{ type: 'CaseRejected', data: { reason: command.data.reason } }];
    case 'CompleteReviewStep': {
      const s = expect(state, command, 'ACCEPTED');
      const current = s.item.steps[s.stepIndex];
      if (current === undefined) throw invalidTransition('every review step has passed; record the decision', { steps: s.item.steps });
      if (command.data.step !== current)
        throw invalidTransition(`the current step is ${current}`, { currentStep: current, step: command.data.step });
      if (command.data.action === 'RETURN' && s.stepIndex === 0)
        throw invalidTransition('the first step cannot be returned to an earlier one', { currentStep: current });
      const nextIndex = command.data.action === 'PASS' ? s.stepIndex + 1 : s.stepIndex - 1;
      return [{
        type: 'ReviewStepCompleted',
        data: {
          step: current, stepIndex: s.stepIndex, action: command.data.action, opinion: command.data.opinion,
          nextStep: s.item.steps[nextIndex] ?? null,
        },
      }];
    }
    case 'SuspendCase':
      expect(state, command, 'ACCEPTED');
      return [{
        type: 'CaseSuspended',
        data: {
          procedure: command.data.procedure, reason: command.data.reason,
          expectedWorkingDays: command.data.expectedWorkingDays, suspendedOn: today,
        },
      }];
    case 'ResumeCase': {
      const s = expect(state, command, 'SUSPENDED');
      const paused = pausedWorkingDays(s.suspension.suspendedOn, today);
      return [{
        type: 'CaseResumed',
        data: {
          result: command.data.result, suspendedOn: s.suspension.suspendedOn, resumedOn: today, pausedWorkingDays: paused,
          deadline: computeDeadline({ ...s.clock, pausedDays: s.clock.pausedDays + paused }),
        },
      }];
    }
    case 'ExtendDeadline': {
      const s = expect(state, command, 'ACCEPTED', 'SUSPENDED');
      if (s.clock.extensionDays > 0)
        throw invalidTransition('the deadline was already extended once (Art. 42)', { extensionDays: s.clock.extensionDays });
      if (command.data.workingDays > MAX_EXTENSION_DAYS)
        throw validationFailed('workingDays', `at most ${MAX_EXTENSION_DAYS} working days`);
      return [{
        type: 'DeadlineExtended',
        data: {
          workingDays: command.data.workingDays, reason: command.data.reason,
          deadline: computeDeadline({ ...s.clock, extensionDays: command.data.workingDays }),
        },
      }];
    }
    case 'TransferCase': {
      const s = expect(state, command, 'ACCEPTED');
      if (command.data.toDepartmentCode === s.departmentCode)
        throw validationFailed('toDepartmentCode', 'the case is already in that department');
      return [{
        type: 'CaseTransferred',
        data: { fromDepartmentCode: s.departmentCode, toDepartmentCode: command.data.toDepartmentCode, reason: command.data.reason },
      }];
    }
    case 'DecideCase': {
      const s = expect(state, command, 'ACCEPTED');
      if (s.stepIndex < s.item.steps.length)
        throw invalidTransition(`the step ${s.item.steps[s.stepIndex]} has not passed yet`, { currentStep: s.item.steps[s.stepIndex] });
      if (command.data.outcome === 'DENIED' && !command.data.reason)
        throw validationFailed('reason', 'a denial needs its reason');
      const used = workingDaysBetween(s.clock.acceptedOn, today) - s.clock.pausedDays;
      return [{
        type: 'CaseDecided',
        data: {
          outcome: command.data.outcome, reason: command.data.reason, licenceNumber: command.data.licenceNumber,
          decidedOn: today, deadline: s.clock.deadline, onTime: today <= s.clock.deadline, workingDaysUsed: Math.max(0, used),
        },
      }];
    }
    case 'DeliverResult': {
      const s = expect(state, command, 'COMPLETED');
      if (command.data.method === 'EXPRESS' && !command.data.trackingNumber)
        throw validationFailed('trackingNumber', 'an express delivery needs its tracking number');
      const deliveryDeadline = addWorkingDays(s.decision.decidedOn, DELIVERY_LIMIT_DAYS);
      return [{
        type: 'ResultDelivered',
        data: {
          method: command.data.method, trackingNumber: command.data.trackingNumber, licenceNumber: s.decision.licenceNumber,
          deliveredOn: today, deliveryDeadline, onTime: today <= deliveryDeadline,
        },
      }];
    }
    case 'WithdrawCase': {
      const s = expect(state, command, 'SUBMITTED', 'CORRECTION_REQUESTED', 'ACCEPTED', 'SUSPENDED');
      return [{ type: 'CaseWithdrawn', data: { reason: command.data.reason, fromStatus: s.status } }];
    }
    case 'EvaluateCase': {
      const s = expect(state, command, 'COMPLETED', 'DELIVERED', 'REJECTED');
      if (s.evaluation) throw invalidTransition('一事一评: the case has already been rated', { score: s.evaluation.score });
      const bad = command.data.score <= 2;
      return [{
        type: 'CaseEvaluated',
        data: {
          score: command.data.score, comment: command.data.comment, channel: command.data.channel, bad,
          rectificationDeadline: bad ? addWorkingDays(today, s.item.rectificationLimitDays) : undefined,
        },
      }];
    }
    case 'CompleteRectification': {
      const e = state.evaluation;
      if (!e?.bad || !e.rectificationDeadline) throw invalidTransition('the case has no bad rating to rectify', { status: state.status });
      if (e.rectifiedAt) throw invalidTransition('the bad rating was already rectified', { rectifiedAt: e.rectifiedAt });
      return [{
        type: 'RectificationCompleted',
        data: { reason: command.data.reason, rectificationDeadline: e.rectificationDeadline, onTime: today <= e.rectificationDeadline },
      }];
    }
    case 'RaiseDeadlineWarning': {
      const s = expect(state, command, 'ACCEPTED');
      if (s.clock.warningRaised || s.clock.exceededRaised) return [];
      const remaining = remainingWorkingDays(today, s.clock.deadline);
      const total = (s.clock.caseType === 'IMMEDIATE' ? 0 : s.clock.limitDays) + s.clock.extensionDays;
      if (remaining < 1 || remaining > warningThreshold(total, s.item.warningThresholdPercent))
        throw invalidTransition('the case is not in the warning zone', { remaining, deadline: s.clock.deadline });
      return [{ type: 'DeadlineWarningRaised', data: { deadline: s.clock.deadline, remainingWorkingDays: remaining } }];
    }
    case 'MarkDeadlineExceeded': {
      const s = expect(state, command, 'ACCEPTED');
      if (s.clock.exceededRaised) return [];
      if (today <= s.clock.deadline) throw invalidTransition('the deadline has not passed', { deadline: s.clock.deadline });
      return [{ type: 'DeadlineExceeded', data: { deadline: s.clock.deadline, workingDaysOverdue: workingDaysBetween(s.clock.deadline, today) } }];
    }
    case 'IssueSupervisionNotice':
      if (isTerminal(state)) throw invalidTransition('a closed case cannot be supervised', { status: state.status });
      if (state.notices.some((n) => n.noticeId === command.data.noticeId))
        throw invalidTransition('a notice with this id exists', { noticeId: command.data.noticeId });
      return [{
        type: 'SupervisionNoticeIssued',
        data: {
          noticeId: command.data.noticeId, content: command.data.content,
          replyBy: addWorkingDays(today, command.data.replyWithinWorkingDays),
        },
      }];
    case 'AnswerSupervisionNotice': {
      const notice = state.notices.find((n) => n.noticeId === command.data.noticeId);
      if (!notice) throw validationFailed('noticeId', 'no such supervision notice on this case');
      if (notice.answeredAt) throw invalidTransition('the notice was already answered', { answeredAt: notice.answeredAt });
      return [{
        type: 'SupervisionNoticeAnswered',
        data: { noticeId: notice.noticeId, answer: command.data.answer, onTime: today <= notice.replyBy },
      }];
    }
    case 'FlagRectificationOverdue': {
      const e = state.evaluation;
      if (!e?.bad || !e.rectificationDeadline || e.rectifiedAt) throw invalidTransition('the case has no open bad rating', { status: state.status });
      if (e.overdueFlagged) return [];
      if (today <= e.rectificationDeadline) throw invalidTransition('the rectification limit has not passed', { rectificationDeadline: e.rectificationDeadline });
      return [{ type: 'RectificationOverdue', data: { rectificationDeadline: e.rectificationDeadline } }];
    }
    case 'FlagSupervisionNoticeOverdue': {
      const notice = state.notices.find((n) => n.noticeId === command.data.noticeId);
      if (!notice) throw validationFailed('noticeId', 'no such supervision notice on this case');
      if (notice.answeredAt) throw invalidTransition('the notice was answered', { answeredAt: notice.answeredAt });
      if (notice.overdueFlagged) return [];
      if (today <= notice.replyBy) throw invalidTransition('the reply date has not passed', { replyBy: notice.replyBy });
      return [{ type: 'SupervisionNoticeOverdue', data: { noticeId: notice.noticeId, replyBy: notice.replyBy } }];
    }
    case 'EraseApplicantData':
      if (state.applicantErased) return [];
      return [{ type: 'ApplicantDataErased', data: { legalBasis: command.data.legalBasis } }];
    default: {
      const never: never = command;
      return never;
    }
  }
};

/** Narrows the state to the statuses a command is allowed in, or refuses with INVALID_TRANSITION. */
function expect<S extends CaseStatus>(state: ExistingCase, command: CaseCommand, ...allowed: S[]): Extract<CaseState, { status: S }> {
  if (!(allowed as CaseStatus[]).includes(state.status))
    throw invalidTransition(`${command.type} is not allowed in status ${state.status}`, { status: state.status, allowed });
  return state as Extract<CaseState, { status: S }>;
}

/** Commands a deadline clock or other system process issues; people cannot. */
export const systemCommands = ['ExpireCorrection', 'RaiseDeadlineWarning', 'MarkDeadlineExceeded', 'FlagRectificationOverdue', 'FlagSupervisionNoticeOverdue'] as const;
export type SystemCommand = CaseCommandOf<(typeof systemCommands)[number]>;
