import { expect } from 'vitest';
import type { CaseCommandData, CaseCommandOf, CaseCommandType } from '../../domain/case/commands.ts';
import { decide } from '../../domain/case/decide.ts';
import type {
  Applicant, CaseEvent, CaseSubmitted, Channel, SubmittedMaterial,
} from '../../domain/case/events.ts';
import { evolve, initialCaseState, type CaseState } from '../../domain/case/state.ts';
import { GovcaseError, type ErrorCode } from '../../domain/errors.ts';
import { ServiceItemRulesSchema, type ServiceItemRules } from '../../domain/serviceItem/serviceItem.ts';
import type { Instant, LocalDate } from '../../domain/time.ts';

/**
 * Emmett-style specs for the case decider:
 *   given([...events]).when(command).then([...events])
 *   given([...events]).when(command).thenThrows('INVALID_TRANSITION')
 *   given([...events]).when(command).thenNothing()
 * Given events are folded with `evolve`; each may carry its own `at` (the metadata time), else
 * DEFAULT_AT is used.
 */
export type GivenEvent = { readonly event: CaseEvent; readonly at: Instant };

export const DEFAULT_AT: Instant = '2026-09-01T09:00:00+08:00';

const isGiven = (e: GivenEvent | CaseEvent): e is GivenEvent => 'event' in e && 'at' in e;

export const fold = (events: readonly (GivenEvent | CaseEvent)[], from: CaseState = initialCaseState()): CaseState =>
  events.reduce<CaseState>((s, e) => (isGiven(e) ? evolve(s, e.event, e.at) : evolve(s, e, DEFAULT_AT)), from);

/** Runs `fn` and returns the error it threw; fails when it returns normally. */
export const thrownBy = (fn: () => unknown): unknown => {
  let result: unknown;
  try {
    result = fn();
  } catch (err) {
    return err;
  }
  throw new Error(`expected a refusal, got ${JSON.stringify(result)}`);
};

export const expectCode = (fn: () => unknown, code: ErrorCode): GovcaseError => {
  const err = thrownBy(fn);
  expect(err).toBeInstanceOf(GovcaseError);
  expect((err as GovcaseError).code).toBe(code);
  return err as GovcaseError;
};

export const given = (events: readonly GivenEvent[] | readonly CaseEvent[] = []) => {
  const state = fold(events);
  return {
    state,
    when: (command: CaseCommandOf<CaseCommandType>) => {
      const run = () => decide(command, state);
      return {
        /** The events decided, for assertions the helpers below do not cover. */
        events: run,
        /** Asserts the decided events and returns the state after them (folded at the command's `now`). */
        then: (expected: readonly CaseEvent[]): CaseState => {
          const produced = run();
          expect(produced).toEqual(expected);
          return fold(produced.map((event) => ({ event, at: command.metadata.now })), state);
        },
        thenThrows: (code: ErrorCode): GovcaseError => expectCode(run, code),
        thenNothing: (): void => {
          expect(run()).toEqual([]);
        },
      };
    },
  };
};

// ---------------------------------------------------------------------------------------------
// Fixtures: a realistic item of the Guizhou catalogue (贵阳市南明区), an applicant, commands.

/** An instant in China Standard Time on `date` (09:00 unless told). */
export const at = (date: LocalDate, time = '09:00:00'): Instant => `${date}T${time}+08:00`;

export const MATERIAL_APPLICATION = '食品经营许可申请书';
export const MATERIAL_LICENCE = '营业执照复印件';
export const MATERIAL_PROXY = '授权委托书';

export const DEPARTMENT = '11520102MB1234567X';
export const OTHER_DEPARTMENT = '11520102MB7654321Y';
export const REGION = '520102';

/** 食品经营许可 (a 行政许可, itemType 01): steps 承办/审核/批准, 2 required materials, promised 10 of legal 20. */
export const serviceItem = (overrides: Partial<Record<keyof ServiceItemRules, unknown>> = {}): ServiceItemRules =>
  ServiceItemRulesSchema.parse({
    itemCode: '520102-XK-00001-001',
    name: '食品经营许可证核发',
    itemType: '01',
    departmentCode: DEPARTMENT,
    departmentName: '贵阳市南明区市场监督管理局',
    regionCode: REGION,
    caseType: 'PROMISED',
    legalLimitDays: 20,
    promisedLimitDays: 10,
    steps: ['承办', '审核', '批准'],
    materials: [
      { name: MATERIAL_APPLICATION, required: true, copies: 1 },
      { name: MATERIAL_LICENCE, required: true, copies: 1 },
      { name: MATERIAL_PROXY, required: false },
    ],
    ...overrides,
  });

export const applicant = (overrides: Partial<Applicant> = {}): Applicant => ({
  name: '张三',
  idType: '111',
  idNumber: '11010519491231002X',
  phone: '13800000000',
  address: '贵州省贵阳市南明区中华南路1号',
  kind: '自然人',
  ...overrides,
});

/** Both required materials provided (the optional proxy letter left out). */
export const completeMaterials = (): SubmittedMaterial[] => [
  { name: MATERIAL_APPLICATION, provided: true, copies: 1 },
  { name: MATERIAL_LICENCE, provided: true, copies: 1 },
];

/** The business licence copy missing. */
export const incompleteMaterials = (): SubmittedMaterial[] => [
  { name: MATERIAL_APPLICATION, provided: true, copies: 1 },
  { name: MATERIAL_LICENCE, provided: false },
];

export const CASE_ID = '0b9a7c1e-5d2f-4a8b-9c3d-1e2f3a4b5c6d';
export const CASE_NUMBER = '520102-20260929-000001-0';
export const OWNER = 'user-zhangsan';

export const submitted = (
  overrides: Partial<{
    item: ServiceItemRules;
    materials: SubmittedMaterial[];
    channel: Channel;
    ownerId: string | null;
    applicant: Applicant;
    submittedAt: Instant;
  }> = {},
): CaseSubmitted => {
  const item = overrides.item ?? serviceItem();
  return {
    type: 'CaseSubmitted',
    data: {
      caseId: CASE_ID,
      caseNumber: CASE_NUMBER,
      item,
      departmentCode: item.departmentCode,
      regionCode: item.regionCode,
      applicant: overrides.applicant ?? applicant(),
      materials: overrides.materials ?? completeMaterials(),
      channel: overrides.channel ?? 'PC',
      formData: { 经营场所: '贵阳市南明区中华南路1号', 主体业态: '餐饮服务经营者' },
      ownerId: overrides.ownerId === undefined ? OWNER : overrides.ownerId,
      submittedAt: overrides.submittedAt ?? DEFAULT_AT,
    },
  };
};

/** A command as the application layer builds it: validated data and `metadata.now`. */
export const command = <T extends CaseCommandType>(type: T, data: CaseCommandData<T>, now: Instant): CaseCommandOf<T> =>
  ({ type, data, metadata: { now } }) as unknown as CaseCommandOf<T>;

/** Shorthand for a given event at a CST date (and time). */
export const on = (date: LocalDate, event: CaseEvent, time?: string): GivenEvent => ({ event, at: at(date, time) });

// ---------------------------------------------------------------------------------------------
// Event factories for given histories (the data as the decider writes it).

export const NOTICE_ID = '7d4c2b1a-3e5f-4a6b-8c7d-9e0f1a2b3c4d';

export const accepted = (acceptedOn: LocalDate, deadline: LocalDate, caseType: 'PROMISED' | 'IMMEDIATE' = 'PROMISED', limitDays = 10): CaseEvent => ({
  type: 'CaseAccepted', data: { acceptedOn, caseType, limitDays, deadline },
});

export const correctionRequested = (deadline: LocalDate, missing: string[] = [MATERIAL_LICENCE]): CaseEvent => ({
  type: 'CorrectionRequested', data: { missingMaterials: missing, reason: '营业执照复印件未提交', deadline },
});

const STEPS = ['承办', '审核', '批准'] as const;

export const stepPassed = (stepIndex: number): CaseEvent => ({
  type: 'ReviewStepCompleted',
  data: { step: STEPS[stepIndex]!, stepIndex, action: 'PASS', opinion: '材料齐全，符合法定形式', nextStep: STEPS[stepIndex + 1] ?? null },
});

/** 承办, 审核, 批准 all passed on `date`. */
export const allStepsPassed = (date: LocalDate): GivenEvent[] =>
  [0, 1, 2].map((i) => on(date, stepPassed(i), `1${i}:00:00`));

export const suspended = (suspendedOn: LocalDate, procedure: 'SITE_CHECK' | 'HEARING' = 'SITE_CHECK'): CaseEvent => ({
  type: 'CaseSuspended', data: { procedure, reason: '需实地核查经营场所', expectedWorkingDays: 5, suspendedOn },
});

export const decided = (decidedOn: LocalDate, deadline: LocalDate, workingDaysUsed: number): CaseEvent => ({
  type: 'CaseDecided',
  data: {
    outcome: 'APPROVED', licenceNumber: 'JY15201020012345', decidedOn, deadline,
    onTime: decidedOn <= deadline, workingDaysUsed,
  },
});

export const noticeIssued = (replyBy: LocalDate, noticeId = NOTICE_ID): CaseEvent => ({
  type: 'SupervisionNoticeIssued', data: { noticeId, content: '请说明办理进度', replyBy },
});

export const evaluated = (score: number, rectificationDeadline?: LocalDate): CaseEvent => ({
  type: 'CaseEvaluated',
  data: { score, comment: score <= 2 ? '等待时间太长' : '办事效率高', channel: 'MOBILE', bad: score <= 2, rectificationDeadline },
});
