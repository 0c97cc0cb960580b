import { readFileSync } from 'node:fs';
import { GraphQLError, type DocumentNode } from 'graphql';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import mercurius from 'mercurius';
import type { RecordedEvent } from '../application/eventStore.ts';
import { GovcaseError, validationFailed } from '../domain/errors.ts';
import type { Principal } from '../domain/permissions.ts';
import { bearerToken, type ApiDeps, type GraphQLContext, type RequestMeta } from './context.ts';
import { clientGraphQLError, errorFormatter } from './errors.ts';
import { badTextInDocument, badTextInVariables } from './inputChecks.ts';
import { depthViolations, fieldViolations, isDocument, isParsedDocument, maxFieldsRule, queryDepthRule, type DepthLimits } from './limits.ts';
import type { Metrics } from './metrics.ts';
import { mutationResolvers } from './resolvers/mutations.ts';
import { queryResolvers } from './resolvers/queries.ts';
import { subscriptionResolvers } from './resolvers/subscriptions.ts';
import { recordRateLimited, recordRefusals, tokenFingerprint } from './audit.ts';
import { DateScalar, DateTime, JSONScalar } from './scalars.ts';
import { eventView, presentApplicant, presentEventData, seesClear } from './views.ts';
import type { CaseView } from '../projections/cases/queries.ts';

/** The served schema: the contract (`shared/contract/schema.graphql`, copied here) plus our additions. */
export const schemaSdl = readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8');

export interface GraphQLPluginOptions {
  readonly api: ApiDeps;
  readonly metrics?: Metrics;
  readonly graphiql: boolean;
  /** nested fields per query (default 10); introspection's `ofType` chains are limited separately (limits.ts) */
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

/**
 * The query text's limit, and how many parsed documents mercurius keeps. mercurius caches every
 * distinct query text it parses (and, apart, every one that failed validation) in LRUs keyed by the
 * text: with 1 MB bodies and the default 1,024 entries each, distinct large queries held over a
 * gigabyte of heap (found by the fuzzer, test/reliability: 70 → 747 MB after 10,000 requests). Large
 * values belong in variables, which are not part of the key.
 */
const MAX_QUERY_CHARS = 16_384;
const PARSED_QUERY_CACHE = 128;

export const graphqlPlugin = async (app: FastifyInstance, opts: GraphQLPluginOptions) => {
  const { api } = opts;
  const maxFields = opts.maxFields ?? 400;
  const depth: DepthLimits = { maxDepth: opts.queryDepth ?? 10, maxOfTypeChain: 9 };
  app.addHook('preHandler', async (request, reply) => {
    const query = (request.body as { query?: unknown } | null | undefined)?.query ?? (request.query as { query?: unknown } | undefined)?.query;
    if (typeof query === 'string' && query.length > MAX_QUERY_CHARS)
      return reply.code(413).send({
        data: null,
        errors: [{ message: `the query text is longer than ${MAX_QUERY_CHARS.toLocaleString('en')} characters; send large values as variables`, extensions: { code: 'VALIDATION_FAILED', field: 'query' } }],
      });
  });
  await app.register(mercurius, {
    cache: PARSED_QUERY_CACHE,
    // a query text seen before runs compiled (graphql-jit) instead of through graphql-js's interpreter
    jit: 1,
    schema: schemaSdl,
    resolvers: {
      DateTime, Date: DateScalar, JSON: JSONScalar,
      Query: queryResolvers,
      Mutation: opts.metrics ? countOutcomes(mutationResolvers, opts.metrics) : mutationResolvers,
      Subscription: subscriptionResolvers,
      Case: {
        applicant: (c: CaseView, _args: unknown, ctx: GraphQLContext) => presentApplicant(ctx, c),
      },
      RecordedEvent: {
        data: (e: RecordedEvent, _args: unknown, ctx: GraphQLContext) => presentEventData(ctx, e),
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
    // depth is our rule (limits.ts), not mercurius `queryDepth`, which refuses the standard introspection query
    validationRules: [maxFieldsRule(maxFields), queryDepthRule(depth)],
    allowBatchedQueries: false,
    context: (request) => contextFor(api, request.headers.authorization, requestMeta(request)),
    subscription: {
      keepAlive: 30_000,
      // A connection needs a valid token in its connection_init payload. Without one (none, malformed,
      // forged, expired) we answer false: mercurius sends `connection_error` {message: 'Forbidden'} and
      // closes the socket without a close code (1005 at the client), before any connection_ack.
      onConnect: async (data: { payload?: Record<string, unknown> }) => {
        const auth = data.payload?.authorization ?? data.payload?.Authorization ?? data.payload?.headers;
        const header = typeof auth === 'string' ? auth : typeof (auth as { authorization?: unknown })?.authorization === 'string' ? (auth as { authorization: string }).authorization : undefined;
        const ctx = await contextFor(api, header, { requestId: 'ws', sourceAddress: 'ws', clientApp: undefined, correlationId: undefined });
        let reason = 'no bearer token in connection_init';
        try {
          const principal = ctx.principal;
          if (principal) return { principal, meta: ctx.meta, api };
        } catch (err) {
          reason = err instanceof Error ? err.message : String(err);
        }
        // a refused connection is a security event too (mercurius gives onConnect no address)
        api.audit?.refusal({
          at: new Date().toISOString(), code: 'UNAUTHENTICATED', actor: tokenFingerprint(header), actorRole: null,
          operation: 'subscription connection_init', reason, sourceAddress: 'websocket', requestId: 'ws',
        });
        return false;
      },
      context: () => ({ api, meta: { requestId: 'ws', sourceAddress: 'ws', clientApp: undefined, correlationId: undefined } }),
    },
    errorFormatter: errorFormatter as never,
  });

  // mercurius JSON.parses a query that does not parse as GraphQL: `"42"`, `"null"`, `"{}"` (or a
  // JSON imitation of a document) reach validation as something that is no document
  app.graphql.addHook('preValidation', async (_schema, document) => {
    if (!isParsedDocument(document)) throw validationFailed('query', 'not a GraphQL document (the query must be GraphQL text)');
  });
  // text PostgreSQL cannot store (NUL, lone surrogates), in the variables or inline in the query
  app.graphql.addHook('preExecution', async (_schema, document, _context, variables) => {
    // GET ?variables= is JSON.parsed without a schema: a string, number or array there made graphql-js
    // throw an assertion (HTTP 500; found by the fuzzer, test/reliability)
    if (variables !== null && variables !== undefined && (typeof variables !== 'object' || Array.isArray(variables)))
      throw validationFailed('variables', 'variables must be a JSON object');
    const bad = badTextInVariables(variables) ?? badTextInDocument(document as DocumentNode);
    if (bad) throw bad;
    // a subscription sent over plain HTTP would execute as a query and fail inside (HTTP 500; found by
    // the fuzzer, test/reliability): refuse it as the client error it is
    if ((document as DocumentNode).definitions.some((d) => d.kind === 'OperationDefinition' && d.operation === 'subscription'))
      throw validationFailed('query', 'subscriptions are served over WebSocket (graphql-ws on /graphql), not over HTTP');
  });
  // the refusal audit (graphql/audit.ts): refused fields, and requests the rate limit refused first
  app.graphql.addHook('onResolution', async (execution, context) => {
    recordRefusals(execution, context as unknown as Parameters<typeof recordRefusals>[1]);
  });
  app.addHook('onResponse', recordRateLimited(api));
  // mercurius does not validate subscriptions: the same limits and checks, with the code on the error
  app.graphql.addHook('preSubscriptionExecution', async (_schema, document) => {
    if (!isDocument(document)) throw clientGraphQLError(validationFailed('query', 'not a GraphQL document'));
    const problems = [...depthViolations(document, depth), ...fieldViolations(document, maxFields)];
    if (problems.length > 0) throw new GraphQLError(problems.join('; '), { extensions: { code: 'VALIDATION_FAILED' } });
    const bad = badTextInDocument(document);
    if (bad) throw clientGraphQLError(bad);
  });
};
