import { z } from 'zod';
import { ApplicantSchema, CaseCommandSchemas, type CaseCommand, type CaseCommandType } from '../domain/case/commands.ts';
import { decide } from '../domain/case/decide.ts';
import { caseStreamId, type Applicant, type Channel, type SubmittedMaterial } from '../domain/case/events.ts';
import type { CaseState } from '../domain/case/state.ts';
import { formatCaseNumber } from '../domain/caseNumber.ts';
import { uuidFromName } from '../domain/integrity.ts';
import { concurrencyConflict, forbidden, GovcaseError, notFound, validationFailed } from '../domain/errors.ts';
import { authorizeCaseCommand, caseCommandGrants, type CaseTarget, type Principal } from '../domain/permissions.ts';
import { serviceItemStreamId } from '../domain/serviceItem/serviceItem.ts';
import { localDateOf } from '../domain/time.ts';
import type { CaseStateCache } from './caseCache.ts';
import { foldCase, loadCase, type LoadedCase } from './caseStream.ts';
import type { EventMetadata, EventStore, Position, RecordedEvent } from './eventStore.ts';
import type { CaseNumberSource, Clock, IdSource } from './ports.ts';
import { loadServiceItem, type ServiceItemSource } from './serviceItems.ts';
import type { PersonalDataVault } from './personalData.ts';
import { splitPersonalForm } from './personalData.ts';
import { parseInput } from './validate.ts';

/** What the write side needs, passed in (no container). */
export interface CaseDeps {
  readonly store: EventStore;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly caseNumbers: CaseNumberSource;
  /** Seals the applicant's personal data before it reaches the store (application/personalData.ts). */
  readonly vault: PersonalDataVault;
  /** The items' rules for submissions; without it, each submission reads the item's stream. */
  readonly items?: ServiceItemSource | undefined;
  /** Cases' states as of their last command here (application/caseCache.ts); without it, every command reads its stream. */
  readonly cache?: CaseStateCache | undefined;
}

/** Who is acting and how: the audit metadata every event carries. */
export interface CommandContext {
  readonly principal: Principal;
  readonly commandId?: string | undefined;
  /** The client's optimistic-concurrency check: a mismatch is CONCURRENCY_CONFLICT, never retried. */
  readonly expectedVersion?: number | undefined;
  readonly correlationId?: string | undefined;
  readonly causationId?: string | undefined;
  readonly clientApp?: string | undefined;
  readonly sourceAddress?: string | undefined;
}

export interface CaseCommandResult {
  readonly caseId: string;
  readonly version: number;
  readonly position: Position | null;
  /** Empty on an idempotent repeat or a command that changed nothing. */
  readonly events: readonly RecordedEvent[];
  readonly state: CaseState;
  readonly duplicate: boolean;
}

const CaseIdSchema = z.uuid();
const CommandIdSchema = z.string().trim().min(1).max(128).regex(/^[\w.:-]+$/, 'letters, digits, _ . : - only');
const MAX_RETRIES = 3;

/** The command types a caller names; SubmitCase has its own entry point (it allocates ids). */
export type CaseCommandInput = { [T in Exclude<CaseCommandType, 'SubmitCase'>]: { readonly type: T; readonly data: unknown } }[Exclude<CaseCommandType, 'SubmitCase'>];

const actorRole = (p: Principal, type: CaseCommandType): string =>
  caseCommandGrants[type].map(([r]) => r).find((r) => p.roles.includes(r)) ?? p.roles[0] ?? 'unknown';

const metadataFor = (ctx: CommandContext, type: CaseCommandType, now: string, reason: unknown): EventMetadata => ({
  actorId: ctx.principal.id,
  actorRole: actorRole(ctx.principal, type),
  departmentCode: ctx.principal.departmentCode,
  commandId: ctx.commandId,
  correlationId: ctx.correlationId ?? ctx.commandId,
  causationId: ctx.causationId,
  reason: typeof reason === 'string' ? reason : undefined,
  clientApp: ctx.clientApp,
  sourceAddress: ctx.sourceAddress,
  occurredAt: now,
});

const targetOf = (state: CaseState): CaseTarget | null =>
  state.status === 'NONE' ? null : { departmentCode: state.departmentCode, regionCode: state.regionCode, ownerId: state.ownerId };

/**
 * A repeat of an earlier command (same commandId): the first result, with the case as it stands now.
 * Only the principal who issued the first may see its result.
 */
const repeatResult = async (store: EventStore, caseId: string, ctx: CommandContext): Promise<CaseCommandResult | null> => {
  if (!ctx.commandId) return null;
  const record = await store.findCommand(ctx.commandId);
  if (!record) return null;
  // whose command it was comes first: another user learns nothing about it, not even which case it was on
  const [first] = await store.readStream(record.streamId, { fromRevision: record.fromRevision, limit: 1 });
  if (first && first.metadata.actorId !== ctx.principal.id) throw forbidden('this commandId belongs to another user\'s command');
  if (record.streamId !== caseStreamId(caseId))
    throw validationFailed('commandId', 'this commandId was already used for a command on another case');
  const loaded = await loadCase(store, caseId);
  return { caseId, version: record.toRevision, position: record.position, events: [], state: loaded.state, duplicate: true };
};

const NEW_CASE: LoadedCase = Object.freeze({ state: foldCase([]), version: -1, head: null, position: null, events: [] });

/** 1. load → 2. authorise → 3. decide → 4. append; retried on a conflict the client did not ask to see. */
const execute = async (
  deps: CaseDeps,
  caseId: string,
  ctx: CommandContext,
  build: (state: CaseState, now: string) => CaseCommand,
  target: (state: CaseState) => CaseTarget | null,
  fresh = false,
): Promise<CaseCommandResult> => {
  // A repeat of a command (same commandId) is not looked up first: it is rare, and every command
  // would pay a round trip for it. It shows itself later: the append finds the commandId recorded
  // (and answers 'duplicate', appending nothing), or the decider refuses the command in the state
  // the first one left (caught below), or it changes nothing (attemptOnce); each then answers with
  // the first result.
  for (let attempt = 0; ; attempt++) {
    try {
      // a new case's stream is almost always empty: decide on that and let the append's `no_stream`
      // check prove it (one read saved); if the stream exists after all, load it and decide again
      return await attemptOnce(deps, caseId, ctx, build, target, fresh && attempt === 0);
    } catch (err) {
      if (!(err instanceof GovcaseError)) throw err;
      if (fresh && attempt === 0 && err.code === 'CONCURRENCY_CONFLICT') continue;
      // a copy of this command that raced ahead and committed: answer with its result, not the refusal
      const raced = await repeatResult(deps.store, caseId, ctx);
      if (raced) return raced;
      const retry = err.code === 'CONCURRENCY_CONFLICT' && ctx.expectedVersion === undefined && attempt < MAX_RETRIES;
      if (!retry) throw err;
    }
  }
};

const attemptOnce = async (
  deps: CaseDeps,
  caseId: string,
  ctx: CommandContext,
  build: (state: CaseState, now: string) => CaseCommand,
  target: (state: CaseState) => CaseTarget | null,
  assumeNew = false,
  useCache = true,
): Promise<CaseCommandResult> => {
  // 1. the case as this process last left it, else read the stream and fold it
  const cache = deps.cache;
  const cached = assumeNew || !useCache ? undefined : cache?.get(caseId);
  let loaded: LoadedCase;
  if (assumeNew) loaded = NEW_CASE;
  else if (cached) loaded = { state: cached.state, version: cached.version, head: cached.head, position: cached.position, events: [] };
  else {
    loaded = await loadCase(deps.store, caseId);
    if (loaded.head) cache?.set(caseId, { state: loaded.state, version: loaded.version, head: loaded.head, position: loaded.position });
  }
  // a refusal or a no-op is never answered from memory: the stream is read and the command decided again
  const fromStream = () => {
    cache?.delete(caseId);
    return attemptOnce(deps, caseId, ctx, build, target, false, false);
  };
  const now = deps.clock.now().toISOString();
  let command: CaseCommand;
  let events: ReturnType<typeof decide>;
  try {
    command = build(loaded.state, now);
    if (ctx.expectedVersion !== undefined && ctx.expectedVersion !== loaded.version)
      throw concurrencyConflict(`the case is at version ${loaded.version}, expected ${ctx.expectedVersion}`, {
        expectedVersion: ctx.expectedVersion, actualVersion: loaded.version,
      });
    // 2. may this principal do it here?
    const t = target(loaded.state);
    if (!t) throw notFound(`no case ${caseId}`, { caseId });
    const verdict = authorizeCaseCommand(ctx.principal, command.type, t);
    if (!verdict.allowed) throw forbidden(verdict.reason, { command: command.type });
    // 3. decide
    events = decide(command, loaded.state);
  } catch (err) {
    if (cached && err instanceof GovcaseError) return fromStream();
    throw err;
  }
  if (events.length === 0) {
    if (cached) return fromStream();
    const repeat = await repeatResult(deps.store, caseId, ctx);
    if (repeat) return repeat;
    return { caseId, version: loaded.version, position: loaded.position, events: [], state: loaded.state, duplicate: false };
  }
  // 4. append, checking the version we decided on (which proves a remembered state current)
  // the reason a person gave: `reason`, or what stands for it in commands without one (a review opinion, a legal basis)
  const given = command.data as { reason?: unknown; opinion?: unknown; legalBasis?: unknown };
  const metadata = metadataFor(ctx, command.type, now, given.reason ?? given.opinion ?? given.legalBasis);
  let result: Awaited<ReturnType<EventStore['appendToStream']>>;
  try {
    result = await deps.store.appendToStream(
      caseStreamId(caseId),
      events.map((e) => ({ type: e.type, data: e.data, metadata })),
      { expectedVersion: loaded.version === -1 ? 'no_stream' : loaded.version, head: loaded.head, ...(ctx.commandId ? { commandId: ctx.commandId } : {}) },
    );
  } catch (err) {
    cache?.delete(caseId);
    throw err;
  }
  if (result.duplicate) {
    cache?.delete(caseId);
    return (await repeatResult(deps.store, caseId, ctx))!;
  }
  const state = foldCase(result.events, loaded.state);
  const last = result.events[result.events.length - 1]!;
  cache?.set(caseId, { state, version: result.version, head: { version: last.revision, hash: last.hash }, position: result.position });
  return { caseId, version: result.version, position: result.position, events: result.events, state, duplicate: false };
};

export const handleCaseCommand = async (deps: CaseDeps, caseId: string, input: CaseCommandInput, ctx: CommandContext): Promise<CaseCommandResult> => {
  parseInput(CaseIdSchema, caseId, 'caseId');
  if (ctx.commandId !== undefined) parseInput(CommandIdSchema, ctx.commandId, 'commandId');
  const schema = CaseCommandSchemas[input.type];
  if (!schema) throw validationFailed('type', `unknown command ${String((input as { type: unknown }).type)}`);
  const data = parseInput(schema as z.ZodType, input.data);
  return execute(deps, caseId, ctx, (_s, now) => ({ type: input.type, data, metadata: { now } }) as CaseCommand, targetOf);
};

export const SubmitCaseInputSchema = z.object({
  itemCode: z.string().trim().min(1).max(24),
  applicant: ApplicantSchema,
  materials: CaseCommandSchemas.SubmitCase.shape.materials,
  channel: CaseCommandSchemas.SubmitCase.shape.channel,
  formData: CaseCommandSchemas.SubmitCase.shape.formData,
  caseId: z.uuid().optional(),
});
export type SubmitCaseInput = {
  readonly itemCode: string;
  readonly applicant: Applicant;
  readonly materials: readonly SubmittedMaterial[];
  readonly channel: Channel;
  readonly formData?: Record<string, unknown> | undefined;
  readonly caseId?: string | undefined;
};

/** Files a case: copies the item's current rules into it and gives it its 办件编号. */
export const submitCase = async (deps: CaseDeps, input: unknown, ctx: CommandContext): Promise<CaseCommandResult> => {
  const data = parseInput(SubmitCaseInputSchema, input);
  if (ctx.commandId !== undefined) parseInput(CommandIdSchema, ctx.commandId, 'commandId');
  const caseId = data.caseId ?? (ctx.commandId ? caseIdForCommand(ctx.commandId, ctx.principal.id) : deps.ids.uuid());
  // a repeated submission is found by the append (its commandId is recorded): see `execute`; it may
  // cost a case number that is then never used
  const item = await (deps.items ? deps.items.load(data.itemCode) : loadServiceItem(deps.store, data.itemCode));
  if (!item) throw notFound(`no service item ${data.itemCode}`, { itemCode: data.itemCode });
  const ownerId = ctx.principal.roles.includes('applicant') ? ctx.principal.id : null;
  const itemTarget: CaseTarget = { departmentCode: item.departmentCode, regionCode: item.regionCode, ownerId };
  const verdict = authorizeCaseCommand(ctx.principal, 'SubmitCase', itemTarget);
  if (!verdict.allowed) throw forbidden(verdict.reason, { command: 'SubmitCase' });
  // personal data is sealed here, before the decider and the store ever hold it
  const form = splitPersonalForm(data.formData, item.personalFields);
  const applicant = await deps.vault.seal(data.applicant, form.personal);
  const filedOn = localDateOf(deps.clock.now());
  const caseNumber = formatCaseNumber(item.regionCode, filedOn, await deps.caseNumbers.next(item.regionCode, filedOn));
  return execute(
    deps, caseId, { ...ctx, expectedVersion: -1 },
    (_s, now) => ({
      type: 'SubmitCase',
      data: { caseId, caseNumber, item, applicant, materials: data.materials, channel: data.channel, formData: form.open, ownerId },
      metadata: { now },
    }),
    (s) => targetOf(s) ?? itemTarget,
    true, // a new stream
  );
};

/**
 * Without a caseId from the client, a submission's case id derives from its commandId, so a retried
 * submission lands on the same stream (and is recognised) instead of filing a second case.
 */
const caseIdForCommand = (commandId: string, principalId: string): string => uuidFromName(`submit/${principalId}/${commandId}`);
