import { GraphQLError } from 'graphql';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ExecutionResult } from 'graphql';
import { GovcaseError, type ErrorCode } from '../domain/errors.ts';
import { isUnavailableError } from '../infrastructure/postgres/pool.ts';

/**
 * The one place errors become `extensions.code` (mercurius `errorFormatter`): GovcaseError keeps its
 * code; anything GraphQL itself refused (syntax, unknown field or enum value, wrong type, depth) is
 * VALIDATION_FAILED; so is anything refused before parsing (empty or malformed body, body too large,
 * wrong content type: a fastify 4xx, which keeps its HTTP status; 429 is RATE_LIMITED); text
 * PostgreSQL cannot take (NUL, lone surrogates) is VALIDATION_FAILED too. The rest is logged with its
 * stack and answered as INTERNAL (HTTP 500) with the request id — never a stack trace to the client.
 * A database that cannot be reached (a raw pg connection error from a read) is UNAVAILABLE; a response
 * that is nothing but UNAVAILABLE is HTTP 503 with Retry-After.
 */
type Code = ErrorCode | 'INTERNAL';

const SAFE_DETAIL_KEYS = ['field', 'issues', 'expectedVersion', 'actualVersion', 'status', 'allowed', 'currentStep', 'reason', 'retryAfterSeconds', 'command', 'missing', 'deadline'];

/** The catalogue's codes (domain/errors.ts), for errors that arrive already coded. */
const CODES: readonly ErrorCode[] = ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'VALIDATION_FAILED', 'INVALID_TRANSITION', 'CONCURRENCY_CONFLICT', 'RATE_LIMITED', 'UNAVAILABLE'];

/**
 * PostgreSQL refusing a value rather than failing: 22021 character_not_in_repertoire (NUL, bad
 * UTF-8), 22P05 untranslatable_character (\u0000 in jsonb), 22P02 invalid_text_representation.
 * The edge rejects these first (plugin.ts); this is the backstop.
 */
const PG_BAD_INPUT = new Set(['22021', '22P05', '22P02']);

const pickDetails = (details: Readonly<Record<string, unknown>>) =>
  Object.fromEntries(Object.entries(details).filter(([k]) => SAFE_DETAIL_KEYS.includes(k)));

/** The error a resolver threw, under GraphQL's wrapping (duck-typed: more than one copy of graphql-js may be loaded). */
const unwrap = (error: unknown): unknown => {
  let e = error as { originalError?: unknown } | undefined;
  for (let i = 0; i < 5 && e && typeof e === 'object' && e.originalError; i++) e = e.originalError as typeof e;
  return e;
};

/** A client error's HTTP status (fastify and mercurius errors carry one), or undefined. */
const clientStatus = (error: unknown): number | undefined => {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500 ? status : undefined;
};

export interface FormattedError {
  message: string;
  locations?: readonly { line: number; column: number }[];
  path?: readonly (string | number)[];
  extensions: { code: Code; [key: string]: unknown };
}

/** A formatted error and the HTTP status it asks for, if any (e.g. 413 for a body too large). */
interface Classified {
  readonly error: FormattedError;
  readonly httpStatus?: number | undefined;
}

const classify = (error: GraphQLError, log: { error: (obj: unknown, msg: string) => void }, requestId: string): Classified[] => {
  const original = unwrap(error);
  // mercurius wraps request-level validation failures in an error carrying the list
  const nested = (original as { errors?: unknown[] } | undefined)?.errors;
  if (Array.isArray(nested) && nested.length > 0 && !(original instanceof GovcaseError)) {
    const status = clientStatus(original);
    const asGraphQLError = (e: unknown) => {
      if (e instanceof GraphQLError) return e;
      const extensions = (e as { extensions?: unknown } | null)?.extensions;
      return new GraphQLError((e as Error | null)?.message ?? String(e), typeof extensions === 'object' && extensions ? { extensions: extensions as Record<string, unknown> } : {});
    };
    return nested.flatMap((e) => classify(asGraphQLError(e), log, requestId))
      .map((c) => (c.error.extensions.code !== 'INTERNAL' && c.httpStatus === undefined && status !== undefined ? { ...c, httpStatus: status } : c));
  }
  const base = { locations: error.locations, path: error.path };
  if (original instanceof GovcaseError)
    return [{ error: { ...base, message: original.message, extensions: { code: original.code, ...pickDetails(original.details) } } }];
  const merCode = (original as { code?: unknown } | undefined)?.code;
  const code = typeof merCode === 'string' ? merCode : undefined;
  // a variable GraphQL could not coerce (`Int` given -0.5, a DateTime without offset): graphql-js wraps the
  // scalar's own GraphQLError as originalError, which is a client error like any other refusal
  const scalarRefusal = original !== error && (original as { name?: unknown } | undefined)?.name === 'GraphQLError'
    && !(original as { originalError?: unknown }).originalError && !(error.path && error.path.length > 0);
  if (!error.originalError || original === error || code?.startsWith('MER_ERR_GQL') || scalarRefusal) {
    // GraphQL's own refusals, our validation rules, and refusals prepared with a code (the rate limit)
    const own = (error.extensions as { code?: unknown } | undefined)?.code;
    const known = typeof own === 'string' && own !== 'INTERNAL' && (CODES as readonly string[]).includes(own) ? own as ErrorCode : 'VALIDATION_FAILED';
    return [{ error: { ...base, message: error.message, extensions: { ...pickDetails(error.extensions ?? {}), code: known } } }];
  }
  // refused before or around parsing (empty or malformed body, body too large, wrong content type, …)
  const status = clientStatus(original);
  if (status !== undefined)
    return [{ error: { ...base, message: (original as Error).message, extensions: { code: status === 429 ? 'RATE_LIMITED' : 'VALIDATION_FAILED' } }, httpStatus: status }];
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || code?.startsWith('MER_ERR_') || code === 'FST_ERR_CTP_INVALID_JSON_BODY')
    return [{ error: { ...base, message: (original as Error).message, extensions: { code: 'VALIDATION_FAILED' } } }];
  if (code && PG_BAD_INPUT.has(code))
    return [{ error: { ...base, message: 'a value contains text that cannot be stored (a NUL character, a lone surrogate or malformed text)', extensions: { code: 'VALIDATION_FAILED' } } }];
  // the database (or the network to it) is away: a raw pg error from a read — the write side maps its own
  if (isUnavailableError(original))
    return [{ error: { ...base, message: 'the database is unavailable; try again shortly', extensions: { code: 'UNAVAILABLE' } }, httpStatus: 503 }];
  log.error({ err: original }, 'internal error while resolving');
  return [{ error: { ...base, message: `internal error (request ${requestId})`, extensions: { code: 'INTERNAL' } } }];
};

/**
 * A refusal as a GraphQLError that carries its code, for the paths mercurius sends without our
 * `errorFormatter` (a subscription refused when it starts).
 */
export const clientGraphQLError = (err: GovcaseError): GraphQLError =>
  new GraphQLError(err.message, { extensions: { code: err.code, ...pickDetails(err.details) } });

export const formatError = (error: GraphQLError, log: { error: (obj: unknown, msg: string) => void }, requestId: string): FormattedError[] =>
  classify(error, log, requestId).map((c) => c.error);

/**
 * The HTTP status of a response: 500 when something failed inside (monitoring must see it); for a
 * request refused as a whole, 400 (or the refusal's own 4xx, e.g. 413, 429) or 401; otherwise 200.
 */
export const errorFormatter = (
  execution: ExecutionResult & { statusCode?: number },
  ctx: { reply?: FastifyReply; app: { log: { error: (obj: unknown, msg: string) => void } } },
) => {
  const log = ctx.reply?.log ?? ctx.app.log;
  const requestId = ctx.reply?.request.id ?? '-';
  const classified = (execution.errors ?? []).flatMap((e) => classify(e, log, requestId));
  const errors = classified.map((c) => c.error);
  const all = (...codes: Code[]) => !execution.data && errors.length > 0 && errors.every((e) => codes.includes(e.extensions.code));
  const internal = errors.some((e) => e.extensions.code === 'INTERNAL');
  const refusedStatus = classified.find((c) => c.httpStatus !== undefined)?.httpStatus;
  const statusCode = internal
    ? 500
    : all('UNAVAILABLE')
      ? 503
    : all('VALIDATION_FAILED', 'RATE_LIMITED')
      ? (refusedStatus ?? (all('RATE_LIMITED') ? 429 : 400))
      : all('UNAUTHENTICATED')
        ? 401
        : 200;
  // nothing but UNAVAILABLE (the database or a read model away): 503, and when to try again
  if (statusCode === 503) ctx.reply?.header('retry-after', '1');
  return {
    statusCode,
    response: { data: execution.data ?? null, errors },
  };
};

/** Errors outside GraphQL execution (malformed JSON, wrong content type, body too large): the same shape. */
export const httpErrorHandler = (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
  const prepared = (error as unknown as { errors?: unknown; statusCode?: number }).errors;
  if (Array.isArray(prepared)) return reply.code(error.statusCode ?? 400).send({ data: null, errors: prepared });
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) request.log.error({ err: error }, 'internal error');
  const code: Code = status === 429 ? 'RATE_LIMITED' : status === 503 ? 'UNAVAILABLE' : status < 500 ? 'VALIDATION_FAILED' : 'INTERNAL';
  const message = status < 500 ? error.message : `internal error (request ${request.id})`;
  return reply.code(status).send({ data: null, errors: [{ message, extensions: { code } }] });
};
