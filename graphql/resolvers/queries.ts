import { foldCase } from '../../application/caseStream.ts';
import { addWorkingDays, isWorkingDay } from '../../domain/calendar/index.ts';
import { caseStreamId } from '../../domain/case/events.ts';
import { eventHash } from '../../domain/integrity.ts';
import { forbidden, validationFailed } from '../../domain/errors.ts';
import type { Principal } from '../../domain/permissions.ts';
import { localDateOf } from '../../domain/time.ts';
import { caseScopeFor, getCase, scopeAllows, searchCases, type CaseFilter, type CaseView } from '../../projections/cases/queries.ts';
import { getServiceItem, listServiceItems, type ServiceItemView } from '../../projections/serviceItems/queries.ts';
import { queryStatistics, type StatisticsFilter, type StatisticsScope } from '../../projections/statistics/queries.ts';
import { searchSupervision, supervisionScopeFor, type SupervisionFilter } from '../../projections/supervision/queries.ts';
import { exchangeStatus } from '../../projections/exchange/status.ts';
import type { GraphQLResolveInfo } from 'graphql';
import { requirePrincipal, type GraphQLContext } from '../context.ts';
import { selects } from '../selection.ts';
import { recordRead } from '../audit.ts';
import { integrityQueryResolvers, reportView } from './integrity.ts';
import { caseViewFromState, eventView, mayReadLog } from '../views.ts';

const today = (ctx: GraphQLContext) => localDateOf(ctx.api.write.clock.now());

/**
 * A connection counts its matches only when `totalCount` is selected: the count is the expensive
 * part of a broad list. Selected, it is exact (never null: the field is `Int!`).
 */
const countMode = (info: GraphQLResolveInfo) => (selects(info, 'totalCount') ? 'exact' as const : 'skip' as const);

const requireLogReader = (p: Principal) => {
  if (!mayReadLog(p)) throw forbidden('reading raw event streams needs the auditor role');
};

const readableCase = (p: Principal, view: CaseView | null): CaseView | null => {
  if (!view) return null;
  // not yours to see: the same answer as a case that does not exist
  if (!scopeAllows(caseScopeFor(p), view)) return null;
  return view;
};

export const itemView = (i: ServiceItemView) => ({
  ...i,
  personalFields: i.personalFields ?? [],
  materials: i.materials.map((m) => ({ name: m.name, provided: m.required, copies: m.copies ?? null })),
});

const statisticsScope = (p: Principal): StatisticsScope => {
  if (p.roles.includes('auditor') || p.roles.includes('admin')) return 'all';
  if (p.roles.includes('supervisor') && p.regionCode) return { regionCode: p.regionCode };
  if ((p.roles.includes('clerk') || p.roles.includes('reviewer')) && p.departmentCode) return { departmentCode: p.departmentCode };
  throw forbidden('statistics are for supervisors (their region), clerks and reviewers (their department), auditors and admins');
};

const limit = (field: string, value: number | null | undefined, fallback: number, max: number) => {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1 || v > max) throw validationFailed(field, `must be between 1 and ${max}`);
  return v;
};

export const queryResolvers = {
  me: (_r: unknown, _a: unknown, ctx: GraphQLContext) => {
    const p = requirePrincipal(ctx);
    return { id: p.id, roles: p.roles.filter((r) => r !== 'system').map((r) => r.toUpperCase()), departmentCode: p.departmentCode ?? null, regionCode: p.regionCode ?? null };
  },

  case: async (_r: unknown, args: { id: string; atLeastVersion?: number | null }, ctx: GraphQLContext) => {
    const p = requirePrincipal(ctx);
    recordRead(ctx, 'case', args.id);
    if (args.atLeastVersion !== null && args.atLeastVersion !== undefined) {
      const wanted = args.atLeastVersion;
      await ctx.api.runner.waitFor('cases', async () => ((await getCase(ctx.api.pool, args.id, today(ctx)))?.version ?? -1) >= wanted, ctx.api.readYourWritesTimeoutMs ?? 5_000);
    }
    return readableCase(p, await getCase(ctx.api.pool, args.id, today(ctx)));
  },

  cases: async (_r: unknown, args: { filter?: (Omit<CaseFilter, 'applicantIndex'> & { applicantIdNumber?: string | null }) | null; first?: number | null; after?: string | null }, ctx: GraphQLContext, info: GraphQLResolveInfo) => {
    const p = requirePrincipal(ctx);
    const { applicantIdNumber, ...filter } = args.filter ?? {};
    const page = await searchCases(ctx.api.pool, {
      filter: { ...filter, applicantIndex: applicantIdNumber ? ctx.api.blindIndex(applicantIdNumber) : undefined },
      scope: caseScopeFor(p), first: limit('first', args.first, 20, 100), after: args.after, today: today(ctx), count: countMode(info),
    });
    return {
      edges: page.edges.map((e) => ({ cursor: e.cursor, node: e.node })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
      totalCount: page.totalCount,
    };
  },

  caseAt: async (_r: unknown, args: { id: string; at: string }, ctx: GraphQLContext) => {
    const p = requirePrincipal(ctx);
    recordRead(ctx, 'caseAt', args.id);
    const events = (await ctx.api.store.readStream(caseStreamId(args.id))).filter((e) => e.metadata.occurredAt <= args.at);
    const state = foldCase(events);
    if (state.status === 'NONE') return null;
    return readableCase(p, caseViewFromState(state, events.at(-1)!.revision, localDateOf(args.at)));
  },

  stream: async (_r: unknown, args: { streamId: string; fromRevision?: number | null; limit?: number | null }, ctx: GraphQLContext) => {
    const p = requirePrincipal(ctx);
    requireLogReader(p);
    recordRead(ctx, 'stream', args.streamId);
    const from = args.fromRevision ?? 0;
    if (!Number.isInteger(from) || from < 0) throw validationFailed('fromRevision', 'must be 0 or more');
    const events = await ctx.api.store.readStream(args.streamId, { fromRevision: from, limit: limit('limit', args.limit, 100, 1_000) });
    return events.map((e) => eventView(e, false));
  },

  events: async (_r: unknown, args: { after?: string | null; limit?: number | null; types?: string[] | null }, ctx: GraphQLContext) => {
    const p = requirePrincipal(ctx);
    requireLogReader(p);
    recordRead(ctx, 'events', args.after ?? '(start)');
    const page = await ctx.api.store.readAll({ after: args.after ?? null, limit: limit('limit', args.limit, 100, 1_000), ...(args.types ? { types: args.types } : {}) });
    return { events: page.events.map((e) => eventView(e, false)), lastPosition: page.lastPosition, hasMore: page.hasMore };
  },

  verifyIntegrity: async (_r: unknown, args: { streamId?: string | null }, ctx: GraphQLContext) => {
    const p = requirePrincipal(ctx);
    requireLogReader(p);
    // with signed checkpoints: the chains and the latest trusted checkpoint (application/integrity.ts)
    if (ctx.api.integrity) return reportView(await ctx.api.integrity.verify({ streamId: args.streamId ?? undefined }));
    const streams = args.streamId
      ? [args.streamId]
      : (await ctx.api.pool.query<{ stream_id: string }>('select stream_id from streams order by stream_id')).rows.map((r) => r.stream_id);
    let eventsChecked = 0;
    for (const streamId of streams) {
      const events = await ctx.api.store.readStream(streamId);
      let previous: string | null = null;
      for (const [i, e] of events.entries()) {
        eventsChecked++;
        if (e.revision !== i || e.previousHash !== previous || e.hash !== eventHash(previous, e))
          return {
            ok: false, streamsChecked: streams.indexOf(streamId) + 1, eventsChecked, brokenStreamId: streamId, brokenRevision: i, checkedAt: new Date().toISOString(),
            eventsPerSecond: 0, problems: [{ kind: 'HASH_MISMATCH', streamId, revision: i, detail: `revision ${i} does not chain` }],
          };
        previous = e.hash;
      }
    }
    return { ok: true, streamsChecked: streams.length, eventsChecked, brokenStreamId: null, brokenRevision: null, checkedAt: new Date().toISOString(), eventsPerSecond: 0, problems: [] };
  },

  ...integrityQueryResolvers,

  serviceItems: async (_r: unknown, args: { regionCode?: string | null; departmentCode?: string | null }, ctx: GraphQLContext) => {
    requirePrincipal(ctx);
    return (await listServiceItems(ctx.api.pool, args)).map(itemView);
  },

  serviceItem: async (_r: unknown, args: { itemCode: string }, ctx: GraphQLContext) => {
    requirePrincipal(ctx);
    const item = await getServiceItem(ctx.api.pool, args.itemCode);
    return item ? itemView(item) : null;
  },

  statistics: async (_r: unknown, args: { filter?: StatisticsFilter | null }, ctx: GraphQLContext, info: GraphQLResolveInfo) =>
    queryStatistics(ctx.api.pool, args.filter ?? {}, statisticsScope(requirePrincipal(ctx)), {
      // the lists cost the most (a province has ~20k items): computed only when asked for
      byDay: selects(info, 'byDay'), byDepartment: selects(info, 'byDepartment'), byItem: selects(info, 'byItem'),
    }),

  supervision: async (_r: unknown, args: { filter?: SupervisionFilter | null; first?: number | null; after?: string | null }, ctx: GraphQLContext, info: GraphQLResolveInfo) => {
    const p = requirePrincipal(ctx);
    if (!p.roles.some((r) => ['supervisor', 'clerk', 'reviewer', 'auditor', 'admin'].includes(r)))
      throw forbidden('supervision is for supervisors, clerks, reviewers, auditors and admins');
    const page = await searchSupervision(ctx.api.pool, {
      filter: args.filter, scope: supervisionScopeFor(p), first: limit('first', args.first, 50, 200), after: args.after, today: today(ctx), count: countMode(info),
    });
    return {
      edges: page.edges.map((e) => ({ cursor: e.cursor, node: { ...e.node, case: e.node.case } })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
      totalCount: page.totalCount,
    };
  },

  projections: async (_r: unknown, _a: unknown, ctx: GraphQLContext) => {
    requirePrincipal(ctx);
    return ctx.api.runner.status();
  },

  addWorkingDays: (_r: unknown, args: { from: string; days: number }, ctx: GraphQLContext) => {
    requirePrincipal(ctx);
    if (Math.abs(args.days) > 3_650) throw validationFailed('days', 'at most 3,650 working days either way');
    return addWorkingDays(args.from, args.days);
  },

  isWorkingDay: (_r: unknown, args: { date: string }, ctx: GraphQLContext) => {
    requirePrincipal(ctx);
    return isWorkingDay(args.date);
  },

  exchangeStatus: async (_r: unknown, _a: unknown, ctx: GraphQLContext) => {
    const p = requirePrincipal(ctx);
    if (!(['supervisor', 'auditor', 'admin'] as const).some((r) => p.roles.includes(r)))
      throw forbidden('the exchange status is for supervisors, auditors and admins');
    return exchangeStatus(ctx.api.pool);
  },
};
