import { GraphQLError } from 'graphql';
import { loadCase } from '../../application/caseStream.ts';
import type { RecordedEvent } from '../../application/eventStore.ts';
import { isCaseStream } from '../../domain/case/events.ts';
import type { ExistingCase, SupervisionNoticeState } from '../../domain/case/state.ts';
import { GovcaseError, validationFailed } from '../../domain/errors.ts';
import { canReadCase, type Principal } from '../../domain/permissions.ts';
import { isRegionCode, regionCovers } from '../../domain/region.ts';
import { localDateOf } from '../../domain/time.ts';
import { requirePrincipal, type GraphQLContext } from '../context.ts';
import { clientGraphQLError } from '../errors.ts';
import { liveIterator } from '../liveEvents.ts';
import { caseViewFromState, eventView, seesClear } from '../views.ts';

/**
 * Subscriptions read the process's tail of the global log and keep, per subscriber, only what the
 * subscriber may see. The case a live event belongs to is folded from its stream (small, indexed),
 * cached briefly per subscription batch.
 */
const caseStates = async (ctx: GraphQLContext, events: readonly RecordedEvent[]) => {
  const ids = [...new Set(events.filter((e) => isCaseStream(e.streamId)).map((e) => e.streamId.slice(5)))];
  const states = new Map<string, { state: ExistingCase; version: number }>();
  await Promise.all(ids.map(async (id) => {
    const loaded = await loadCase(ctx.api.store, id);
    if (loaded.state.status !== 'NONE') states.set(id, { state: loaded.state, version: loaded.version });
  }));
  return states;
};

const targetOf = (s: ExistingCase) => ({ departmentCode: s.departmentCode, regionCode: s.regionCode, ownerId: s.ownerId });

/** Today on the server's clock (the same clock the write side and the deadline clock use). */
const today = (ctx: GraphQLContext) => localDateOf(ctx.api.write.clock.now());

/** The contract's SupervisionNotice, from the state (content and answer are absent from states folded before they were kept). */
const noticeView = (n: SupervisionNoticeState) => ({
  id: n.noticeId, content: n.content ?? '', issuedAt: n.issuedAt, replyBy: n.replyBy, answer: n.answer ?? null, answeredAt: n.answeredAt ?? null,
});

/**
 * A subscription refused when it starts reaches the client without our `errorFormatter` (mercurius
 * sends it as it is): it carries its code itself.
 */
const coded = <A extends unknown[], R>(subscribe: (...args: A) => R) => async (...args: A): Promise<Awaited<R>> => {
  try {
    return await subscribe(...args);
  } catch (err) {
    if (err instanceof GovcaseError) throw clientGraphQLError(err);
    throw new GraphQLError('internal error', { originalError: err as Error, extensions: { code: 'INTERNAL' } });
  }
};

export const subscriptionResolvers = {
  caseEvents: {
    subscribe: coded((_root: unknown, args: { caseId?: string | null }, ctx: GraphQLContext) => {
      const p: Principal = requirePrincipal(ctx);
      const stream = args.caseId ? `case-${args.caseId}` : null;
      return liveIterator(ctx.api.liveEvents, async (events) => {
        const mine = events.filter((e) => isCaseStream(e.streamId) && (stream === null || e.streamId === stream));
        if (mine.length === 0) return [];
        const states = await caseStates(ctx, mine);
        return mine.flatMap((e) => {
          const s = states.get(e.streamId.slice(5));
          if (!s || !canReadCase(p, targetOf(s.state))) return [];
          const clear = seesClear(p, caseViewFromState(s.state, s.version, today(ctx)));
          return [{ caseEvents: eventView(e, clear) }];
        });
      });
    }),
  },
  supervisionAlerts: {
    subscribe: coded((_root: unknown, args: { regionCode?: string | null }, ctx: GraphQLContext) => {
      const p = requirePrincipal(ctx);
      if (args.regionCode && !isRegionCode(args.regionCode)) throw validationFailed('regionCode', 'a 6-digit GB/T 2260 region code');
      return liveIterator(ctx.api.liveEvents, async (events) => {
        const alerts = events.filter((e) => e.type === 'DeadlineWarningRaised' || e.type === 'DeadlineExceeded');
        if (alerts.length === 0) return [];
        const states = await caseStates(ctx, alerts);
        const day = today(ctx);
        return alerts.flatMap((e) => {
          const s = states.get(e.streamId.slice(5));
          if (!s || !canReadCase(p, targetOf(s.state))) return [];
          if (args.regionCode && !regionCovers(args.regionCode, s.state.regionCode)) return [];
          const view = caseViewFromState(s.state, s.version, day);
          return [{
            supervisionAlerts: {
              case: view,
              level: e.type === 'DeadlineExceeded' ? 'OVERDUE' : 'WARNING',
              deadline: (e.data as { deadline?: string }).deadline ?? view.deadline,
              remainingWorkingDays: view.remainingWorkingDays,
              notices: s.state.notices.map(noticeView),
            },
          }];
        });
      });
    }),
  },
};
