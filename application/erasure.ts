import { z } from 'zod';
import { forbidden } from '../domain/errors.ts';
import { uuidFromName } from '../domain/integrity.ts';
import { authorizeCaseCommand } from '../domain/permissions.ts';
import { handleCaseCommand, type CaseDeps, type CommandContext } from './cases.ts';
import { parseInput } from './validate.ts';

/**
 * Crypto-shredding (个人信息保护法 第47条): a data subject's key is destroyed first — from that moment
 * nothing anywhere can open their sealed fields — then every case of theirs records
 * `ApplicantDataErased` with the legal basis, so read models and rebuilds show the erasure. Events and
 * hashes stay as they were and keep verifying. A retry (same commandId) finishes what a crash left.
 */

export const EraseInputSchema = z.object({
  subjectIdNumber: z.string().trim().min(4).max(40).regex(/^[0-9A-Za-z-]+$/, 'letters, digits and - only'),
  legalBasis: z.string().trim().min(2).max(2000),
});

export interface ErasureResult {
  readonly subjectsErased: number;
  readonly casesAffected: number;
}

/** Finds the subject's cases (by blind index) once the read model has seen every event appended so far. */
export type FindCasesOfSubject = (subject: string) => Promise<readonly string[]>;

const CONCURRENCY = 8;

export const eraseApplicantData = async (
  deps: CaseDeps,
  findCases: FindCasesOfSubject,
  input: unknown,
  ctx: CommandContext,
): Promise<ErasureResult> => {
  // the policy table decides, before anything is touched (admin only)
  const verdict = authorizeCaseCommand(ctx.principal, 'EraseApplicantData', { departmentCode: '', regionCode: '', ownerId: null });
  if (!verdict.allowed) throw forbidden(verdict.reason, { command: 'EraseApplicantData' });
  const data = parseInput(EraseInputSchema, input);
  const subject = deps.vault.subjectOf(data.subjectIdNumber);
  const cases = await findCases(subject);
  const keyExisted = await deps.vault.erase(subject, { legalBasis: data.legalBasis, actorId: ctx.principal.id });
  let affected = 0;
  const queue = [...cases];
  const worker = async () => {
    for (let caseId = queue.shift(); caseId !== undefined; caseId = queue.shift()) {
      const r = await handleCaseCommand(deps, caseId, { type: 'EraseApplicantData', data: { legalBasis: data.legalBasis } }, {
        ...ctx,
        expectedVersion: undefined,
        // one derived key per case: a retried erasure appends nothing twice
        commandId: ctx.commandId ? `erase:${uuidFromName(`${ctx.commandId}/${caseId}`)}` : undefined,
      });
      if (r.events.length > 0 || r.duplicate) affected++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, cases.length) }, worker));
  return { subjectsErased: keyExisted || cases.length > 0 ? 1 : 0, casesAffected: affected };
};
