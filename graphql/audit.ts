import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ExecutionResult } from 'graphql';
import { auditedRole, type RefusalCode } from '../application/audit.ts';
import { GovcaseError } from '../domain/errors.ts';
import type { Principal } from '../domain/permissions.ts';
import type { ApiDeps, GraphQLContext } from './context.ts';

/**
 * Recording reads and refusals from the GraphQL layer (application/audit.ts says what and why).
 * Both only hand a record to the trail, which writes in batches: a read is never slowed by its audit.
 */
const principalOf = (ctx: GraphQLContext): Principal | null => {
  try {
    return ctx.principal;
  } catch {
    return null; // a token that did not verify: the refusal is recorded on its own
  }
};

/** An auditor's or supervisor's read of personal data (a stream, the log, a case, a case in the past). */
export const recordRead = (ctx: GraphQLContext, operation: string, target: string | null) => {
  const audit = ctx.api.audit;
  const p = principalOf(ctx);
  if (!audit || !p) return;
  const role = auditedRole(p);
  if (!role) return;
  audit.access({
    at: new Date().toISOString(), actorId: p.id, actorRole: role, operation, target,
    sourceAddress: ctx.meta.sourceAddress, requestId: ctx.meta.requestId, clientApp: ctx.meta.clientApp ?? null,
  });
};

const REFUSALS: readonly string[] = ['UNAUTHENTICATED', 'FORBIDDEN', 'RATE_LIMITED'] satisfies RefusalCode[];

/** The token's fingerprint, for refusals of a token that was not accepted (never the token itself). */
export const tokenFingerprint = (authorization: string | undefined): string =>
  authorization ? `token:${createHash('sha256').update(authorization).digest('hex').slice(0, 16)}` : 'anonymous';

const codeOf = (err: unknown): string | undefined => {
  const e = err as { originalError?: unknown; extensions?: { code?: unknown } };
  if (e.originalError instanceof GovcaseError) return e.originalError.code;
  return typeof e.extensions?.code === 'string' ? e.extensions.code : undefined;
};

/** mercurius `onResolution`: each refused field of an operation, recorded with who, what and why. */
export const recordRefusals = (execution: ExecutionResult, ctx: GraphQLContext & { reply?: FastifyReply }) => {
  const audit = ctx.api?.audit;
  if (!audit || !execution.errors?.length) return;
  const p = principalOf(ctx);
  const authorization = ctx.reply?.request.headers.authorization;
  for (const err of execution.errors) {
    const code = codeOf(err);
    if (!code || !REFUSALS.includes(code)) continue;
    audit.refusal({
      at: new Date().toISOString(), code: code as RefusalCode,
      actor: p?.id ?? tokenFingerprint(authorization), actorRole: p ? (p.roles[0] ?? null) : null,
      operation: String(err.path?.[0] ?? 'graphql'), reason: err.message, sourceAddress: ctx.meta.sourceAddress, requestId: ctx.meta.requestId,
    });
  }
};

/** fastify `onResponse` on the GraphQL routes: a request the rate limit refused (429) before GraphQL saw it. */
export const recordRateLimited = (api: ApiDeps) => async (request: FastifyRequest, reply: FastifyReply) => {
  if (reply.statusCode !== 429 || !api.audit) return;
  api.audit.refusal({
    at: new Date().toISOString(), code: 'RATE_LIMITED', actor: tokenFingerprint(request.headers.authorization), actorRole: null,
    operation: `${request.method} ${request.url.split('?')[0]}`, reason: 'rate limit exceeded', sourceAddress: request.ip, requestId: request.id,
  });
};
