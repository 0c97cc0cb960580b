import { handleCaseCommand, submitCase, type CaseCommandInput, type CaseCommandResult, type CommandContext } from '../../application/cases.ts';
import { eraseApplicantData } from '../../application/erasure.ts';
import { publishServiceItem } from '../../application/serviceItems.ts';
import { uuidFromName } from '../../domain/integrity.ts';
import { GovcaseError, forbidden, validationFailed } from '../../domain/errors.ts';
import { localDateOf } from '../../domain/time.ts';
import { requirePrincipal, type GraphQLContext } from '../context.ts';
import { integrityMutationResolvers } from './integrity.ts';
import { retryDeadLetters } from '../../projections/exchange/status.ts';
import { targets as exchangeTargets, type Target as ExchangeTarget } from '../../domain/exchange/targets.ts';
import { caseViewFromState, eventView, seesClear } from '../views.ts';

/**
 * Mutations: each is a thin mapping from the contract's input to one application command; the
 * handler validates (zod), authorises (the pure policy), decides and appends.
 */
type Input = Record<string, unknown> & { caseId?: string; commandId?: string | null; expectedVersion?: number | null };

const commandContext = (ctx: GraphQLContext, input: Input): CommandContext => ({
  principal: requirePrincipal(ctx),
  commandId: input.commandId ?? undefined,
  expectedVersion: input.expectedVersion ?? undefined,
  correlationId: ctx.meta.correlationId ?? ctx.meta.requestId,
  // what caused the events: the client's command, else the HTTP request that carried it
  causationId: input.commandId ?? ctx.meta.requestId,
  clientApp: ctx.meta.clientApp,
  sourceAddress: ctx.meta.sourceAddress,
});

const ERASE_WAIT_MS = 30_000;
/** Has the `cases` projection committed everything up to `position`? */
const caughtUpTo = async (ctx: GraphQLContext, position: string): Promise<boolean> => {
  const res = await ctx.api.pool.query<{ position: string | null }>(`select position from projection_checkpoints where name = 'cases'`);
  const at = res.rows[0]?.position ?? null;
  return at !== null && ctx.api.store.comparePositions(at, position) >= 0;
};

export const commandResult = (ctx: GraphQLContext, r: CaseCommandResult) => {
  if (r.state.status === 'NONE') throw new GovcaseError('NOT_FOUND', `no case ${r.caseId}`);
  const principal = requirePrincipal(ctx);
  const full = caseViewFromState(r.state, r.version, localDateOf(ctx.api.write.clock.now()));
  const clear = seesClear(principal, full);
  return {
    caseId: r.caseId,
    version: r.version,
    position: r.position ?? '',
    events: r.events.map((e) => eventView(e, clear)),
    case: full,
  };
};

const caseCommand = (type: CaseCommandInput['type'], pick: (input: Input) => Record<string, unknown>) =>
  async (_root: unknown, { input }: { input: Input }, ctx: GraphQLContext) => {
    const result = await handleCaseCommand(ctx.api.write, String(input.caseId), { type, data: pick(input) } as CaseCommandInput, commandContext(ctx, input));
    return commandResult(ctx, result);
  };

const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));

export const mutationResolvers = {
  submitCase: async (_root: unknown, { input }: { input: Input }, ctx: GraphQLContext) => {
    const result = await submitCase(ctx.api.write, defined({
      itemCode: input.itemCode, applicant: defined(input.applicant as Record<string, unknown>),
      materials: (input.materials as Record<string, unknown>[] | undefined)?.map(defined), channel: input.channel,
      formData: input.formData, caseId: input.caseId,
    }), commandContext(ctx, input));
    return commandResult(ctx, result);
  },
  requestCorrection: caseCommand('RequestCorrection', (i) => ({ missingMaterials: i.missingMaterials, reason: i.reason })),
  supplyCorrection: caseCommand('SupplyCorrection', (i) => ({ materials: (i.materials as Record<string, unknown>[] | undefined)?.map(defined) })),
  acceptCase: caseCommand('AcceptCase', () => ({})),
  rejectCase: caseCommand('RejectCase', (i) => ({ reason: i.reason })),
  completeReviewStep: caseCommand('CompleteReviewStep', (i) => ({ step: i.step, action: i.action, opinion: i.opinion })),
  suspendCase: caseCommand('SuspendCase', (i) => defined({ procedure: i.procedure, reason: i.reason, expectedWorkingDays: i.expectedWorkingDays })),
  resumeCase: caseCommand('ResumeCase', (i) => ({ result: i.result })),
  extendDeadline: caseCommand('ExtendDeadline', (i) => ({ workingDays: i.workingDays, reason: i.reason })),
  transferCase: caseCommand('TransferCase', (i) => ({ toDepartmentCode: i.toDepartmentCode, reason: i.reason })),
  decideCase: caseCommand('DecideCase', (i) => defined({ outcome: i.outcome, reason: i.reason, licenceNumber: i.licenceNumber })),
  deliverResult: caseCommand('DeliverResult', (i) => defined({ method: i.method, trackingNumber: i.trackingNumber })),
  withdrawCase: caseCommand('WithdrawCase', (i) => ({ reason: i.reason })),
  evaluateCase: caseCommand('EvaluateCase', (i) => defined({ score: i.score, comment: i.comment, channel: i.channel })),
  completeRectification: caseCommand('CompleteRectification', (i) => ({ reason: i.reason })),
  issueSupervisionNotice: async (root: unknown, args: { input: Input }, ctx: GraphQLContext) => {
    // the notice id follows from the command id, so a retried notice is the same notice
    const noticeId = args.input.commandId ? uuidFromName(`notice/${args.input.commandId}`) : ctx.api.write.ids.uuid();
    return caseCommand('IssueSupervisionNotice', (i) => ({ noticeId, content: i.content, replyWithinWorkingDays: i.replyWithinWorkingDays }))(root, args, ctx);
  },
  answerSupervisionNotice: caseCommand('AnswerSupervisionNotice', (i) => ({ noticeId: i.noticeId, answer: i.answer })),
  publishServiceItem: async (_root: unknown, { input }: { input: Input }, ctx: GraphQLContext) => {
    const materials = (input.materials as { name: string; provided: boolean; copies?: number | null }[] | null | undefined)
      ?.map((m) => defined({ name: m.name, required: m.provided, copies: m.copies }));
    const r = await publishServiceItem(ctx.api.write, defined({ ...input, materials, commandId: undefined }), commandContext(ctx, input));
    return { ...r.item, personalFields: r.item.personalFields ?? [], version: r.version + 1, materials: r.item.materials.map((m) => ({ name: m.name, provided: m.required, copies: m.copies ?? null })) };
  },
  eraseApplicantData: async (_root: unknown, { input }: { input: Input }, ctx: GraphQLContext) => {
    const findCases = async (subject: string) => {
      // every case filed so far must be in the read model before it is searched
      const head = await ctx.api.store.headPosition();
      if (head !== null && !(await ctx.api.runner.waitFor('cases', async () => caughtUpTo(ctx, head), ERASE_WAIT_MS)))
        throw new GovcaseError('UNAVAILABLE', 'the cases read model is behind; erasure waits for it: try again shortly');
      const rows = await ctx.api.pool.query<{ case_id: string }>('select case_id from cases where applicant_index = $1', [subject]);
      return rows.rows.map((r) => r.case_id);
    };
    return eraseApplicantData(ctx.api.write, findCases, { subjectIdNumber: input.subjectIdNumber, legalBasis: input.legalBasis }, commandContext(ctx, input));
  },
  retryExchangeDeadLetters: async (_root: unknown, args: { target?: string | null }, ctx: GraphQLContext) => {
    if (!requirePrincipal(ctx).roles.includes('admin')) throw forbidden('retrying dead letters needs the admin role');
    if (args.target != null && !exchangeTargets.includes(args.target as ExchangeTarget))
      throw validationFailed('target', `one of ${exchangeTargets.join(', ')}`);
    return retryDeadLetters(ctx.api.pool, (args.target ?? undefined) as ExchangeTarget | undefined);
  },
  ...integrityMutationResolvers,
};
