import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import mercurius from 'mercurius';
import { GovcaseError } from '../domain/errors.ts';
import type { Principal } from '../domain/permissions.ts';
import { bearerToken, type ApiDeps, type GraphQLContext, type RequestMeta } from './context.ts';
import { errorFormatter } from './errors.ts';
import { maxFieldsRule } from './limits.ts';
import type { Metrics } from './metrics.ts';
import { mutationResolvers } from './resolvers/mutations.ts';
import { queryResolvers } from './resolvers/queries.ts';
import { subscriptionResolvers } from './resolvers/subscriptions.ts';
import { DateScalar, DateTime, JSONScalar } from './scalars.ts';
import { eventView, seesClear } from './views.ts';
import type { CaseView } from '../projections/cases/queries.ts';

/** The served schema: the contract (`shared/contract/schema.graphql`, copied here) plus our additions. */
export const schemaSdl = readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8');

export interface GraphQLPluginOptions {
  readonly api: ApiDeps;
  readonly metrics?: Metrics;
  readonly graphiql: boolean;
  readonly queryDepth?: number;
  readonly maxFields?: number;
}

const requestMeta = (request: FastifyRequest): RequestMeta => {
  const header = (name: string) => {
    const v = request.headers[name];
    return typeof v === 'string' && v.length > 0 && v.length <= 128 ? v : undefined;
  };
  return { requestId: request.id, sourceAddress: request.ip, clientApp: header('x-client-app'), correlationId: header('x-correlation-id') };
};

/** A context whose principal access throws the token's own problem (expired, forged) as UNAUTHENTICATED. */
const contextFor = async (api: ApiDeps, authorization: string | undefined, meta: RequestMeta): Promise<GraphQLContext> => {
  let principal: Principal | null = null;
  let authError: GovcaseError | null = null;
  try {
    const token = bearerToken(authorization);
    if (token) principal = await api.verifier.verify(token);
  } catch (err) {
    authError = err instanceof GovcaseError ? err : new GovcaseError('UNAUTHENTICATED', 'the token could not be verified');
  }
  const ctx = { meta, api } as GraphQLContext & { principal: Principal | null };
  Object.defineProperty(ctx, 'principal', {
    enumerable: true,
    get: () => {
      if (authError) throw authError;
      return principal;
    },
  });
  return ctx;
};

/** Counts each mutation's outcome: ok, or the error code it was refused with. */
const countOutcomes = <R extends Record<string, (...args: never[]) => unknown>>(resolvers: R, metrics: Metrics): R =>
  Object.fromEntries(Object.entries(resolvers).map(([name, fn]) => [name, async (...args: never[]) => {
    try {
      const result = await fn(...args);
      metrics.commands.inc({ command: name, outcome: 'ok' });
      return result;
    } catch (err) {
      metrics.commands.inc({ command: name, outcome: (err as { code?: string }).code ?? 'INTERNAL' });
      throw err;
    }
  }])) as R;

export const graphqlPlugin = async (app: FastifyInstance, opts: GraphQLPluginOptions) => {
  const { api } = opts;
  await app.register(mercurius, {
    schema: schemaSdl,
    resolvers: {
      DateTime, Date: DateScalar, JSON: JSONScalar,
      Query: queryResolvers,
      Mutation: opts.metrics ? countOutcomes(mutationResolvers, opts.metrics) : mutationResolvers,
      Subscription: subscriptionResolvers,
      Case: {
        applicant: (c: CaseView) => c.applicant,
      },
    } as never,
    loaders: {
      Case: {
        history: async (queries: { obj: CaseView }[], ctx: GraphQLContext) => {
          const principal = ctx.principal!;
          return Promise.all(queries.map(async ({ obj }) => {
            const events = await api.store.readStream(`case-${obj.id}`);
            const clear = seesClear(principal, obj);
            return events.map((e) => eventView(e, clear));
          }));
        },
      },
    } as never,
    graphiql: opts.graphiql,
    path: '/graphql',
    queryDepth: opts.queryDepth ?? 10,
    validationRules: [maxFieldsRule(opts.maxFields ?? 400)],
    allowBatchedQueries: false,
    context: (request) => contextFor(api, request.headers.authorization, requestMeta(request)),
    subscription: {
      keepAlive: 30_000,
      onConnect: async (data: { payload?: Record<string, unknown> }) => {
        const auth = data.payload?.authorization ?? data.payload?.Authorization ?? data.payload?.headers;
        const header = typeof auth === 'string' ? auth : typeof (auth as { authorization?: unknown })?.authorization === 'string' ? (auth as { authorization: string }).authorization : undefined;
        const ctx = await contextFor(api, header, { requestId: 'ws', sourceAddress: 'ws', clientApp: undefined, correlationId: undefined });
        try {
          return { principal: ctx.principal, meta: ctx.meta, api };
        } catch {
          return false; // a bad token closes the connection (4403)
        }
      },
      context: () => ({ api, meta: { requestId: 'ws', sourceAddress: 'ws', clientApp: undefined, correlationId: undefined } }),
    },
    errorFormatter: errorFormatter as never,
  });
};
