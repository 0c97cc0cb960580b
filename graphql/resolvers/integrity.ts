import { latestCheckpoints } from '../../application/integrity.ts';
import type { IntegrityReport } from '../../application/integrity.ts';
import { forbidden, unavailable, validationFailed } from '../../domain/errors.ts';
import type { Checkpoint } from '../../domain/integrity/checkpoint.ts';
import { canReadEventLog, type Principal } from '../../domain/permissions.ts';
import { requirePrincipal, type GraphQLContext } from '../context.ts';

/** Integrity checkpoints, verification, and the access and refusal audit: auditors and admins. */
const requireAuditor = (p: Principal, what: string) => {
  if (!canReadEventLog(p)) throw forbidden(`${what} are for auditors and admins`);
};

const bounded = (field: string, v: number | null | undefined, fallback: number, max: number) => {
  const n = v ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > max) throw validationFailed(field, `must be between 1 and ${max}`);
  return n;
};

export const checkpointView = (c: Checkpoint) => ({
  id: String(c.sequence), sequence: c.sequence, position: c.position, streams: c.streams, merkleRoot: c.merkleRoot,
  signature: c.signature, publicKey: c.publicKey, createdAt: c.createdAt, previous: c.previous, changesHash: c.changesHash,
  changedStreams: c.changes.length, full: c.full,
});

export const reportView = (r: IntegrityReport) => ({
  ok: r.ok, streamsChecked: r.streamsChecked, eventsChecked: r.eventsChecked, brokenStreamId: r.brokenStreamId,
  brokenRevision: r.brokenRevision, checkedAt: r.checkedAt, checkpointSequence: r.checkpoint?.sequence ?? null,
  checkpointPosition: r.checkpoint?.position ?? null, eventsPerSecond: r.eventsPerSec,
  problems: r.problems.map((p) => ({ kind: p.kind, streamId: p.streamId, revision: p.revision, checkpointSequence: p.sequence ?? null, detail: p.detail })),
});

export const integrityQueryResolvers = {
  integrityCheckpoints: async (_r: unknown, args: { last?: number | null }, ctx: GraphQLContext) => {
    requireAuditor(requirePrincipal(ctx), 'integrity checkpoints');
    return (await latestCheckpoints(ctx.api.store, bounded('last', args.last, 10, 1_000))).map(checkpointView);
  },
  accessAudit: async (_r: unknown, args: { actorId?: string | null; target?: string | null; since?: string | null; first?: number | null }, ctx: GraphQLContext) => {
    requireAuditor(requirePrincipal(ctx), 'the access audit');
    if (!ctx.api.audit) throw unavailable('the access audit is not configured on this server');
    return ctx.api.audit.listAccess({ actorId: args.actorId, target: args.target, since: args.since, first: bounded('first', args.first, 50, 1_000) });
  },
  securityEvents: async (_r: unknown, args: { code?: string | null; actor?: string | null; since?: string | null; first?: number | null }, ctx: GraphQLContext) => {
    requireAuditor(requirePrincipal(ctx), 'security events');
    if (!ctx.api.audit) throw unavailable('the security audit is not configured on this server');
    return ctx.api.audit.listSecurityEvents({ code: args.code, actor: args.actor, since: args.since, first: bounded('first', args.first, 50, 1_000) });
  },
};

export const integrityMutationResolvers = {
  createIntegrityCheckpoint: async (_root: unknown, _args: unknown, ctx: GraphQLContext) => {
    const p = requirePrincipal(ctx);
    requireAuditor(p, 'integrity checkpoints');
    if (!ctx.api.integrity) throw unavailable('signed integrity checkpoints need the PostgreSQL event store');
    const cp = await ctx.api.integrity.checkpointer.create({
      actor: {
        id: p.id, role: p.roles.includes('auditor') ? 'auditor' : 'admin', sourceAddress: ctx.meta.sourceAddress,
        correlationId: ctx.meta.correlationId ?? ctx.meta.requestId, clientApp: ctx.meta.clientApp,
      },
    });
    return checkpointView(cp!);
  },
};
