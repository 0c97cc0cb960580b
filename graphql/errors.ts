import { GraphQLError } from 'graphql';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ExecutionResult } from 'graphql';
import { GovcaseError, type ErrorCode } from '../domain/errors.ts';

/**
 * The one place errors become `extensions.code` (mercurius `errorFormatter`): GovcaseError keeps its
 * code; anything GraphQL itself refused (syntax, unknown field or enum value, wrong type, depth) is
 * VALIDATION_FAILED; the rest is logged with its stack and answered as INTERNAL with the request id —
 * never a stack trace to the client.
 */
type Code = ErrorCode | 'INTERNAL';

const SAFE_DETAIL_KEYS = ['field', 'issues', 'expectedVersion', 'actualVersion', 'status', 'allowed', 'currentStep', 'reason', 'retryAfterSeconds', 'command', 'missing', 'deadline'];

const pickDetails = (details: Readonly<Record<string, unknown>>) =>
  Object.fromEntries(Object.entries(details).filter(([k]) => SAFE_DETAIL_KEYS.includes(k)));

/** The error a resolver threw, under GraphQL's wrapping (duck-typed: more than one copy of graphql-js may be loaded). */
const unwrap = (error: unknown): unknown => {
  let e = error as { originalError?: unknown } | undefined;
  for (let i = 0; i < 5 && e && typeof e === 'object' && e.originalError; i++) e = e.originalError as typeof e;
  return e;
};

export interface FormattedError {
  message: string;
  locations?: readonly { line: number; column: number }[];
  path?: readonly (string | number)[];
  extensions: { code: Code; [key: string]: unknown };
}

export const formatError = (error: GraphQLError, log: { error: (obj: unknown, msg: string) => void }, requestId: string): FormattedError[] => {
  const original = unwrap(error);
  // mercurius wraps request-level validation failures in an error carrying the list
  const nested = (original as { errors?: unknown[] } | undefined)?.errors;
  if (Array.isArray(nested) && nested.length > 0 && !(original instanceof GovcaseError))
    return nested.flatMap((e) => formatError(e instanceof GraphQLError ? e : new GraphQLError((e as Error).message ?? String(e)), log, requestId));
  const base = { locations: error.locations, path: error.path };
  if (original instanceof GovcaseError)
    return [{ ...base, message: original.message, extensions: { code: original.code, ...pickDetails(original.details) } }];
  const merCode = (original as { code?: string } | undefined)?.code;
  if (!error.originalError || original === error || merCode?.startsWith('MER_ERR_GQL') || merCode === 'MER_ERR_GQL_QUERY_DEPTH')
    return [{ ...base, message: error.message, extensions: { code: 'VALIDATION_FAILED' } }];
  if (merCode === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || merCode?.startsWith('MER_ERR_') || merCode === 'FST_ERR_CTP_INVALID_JSON_BODY')
    return [{ ...base, message: (original as Error).message, extensions: { code: 'VALIDATION_FAILED' } }];
  log.error({ err: original }, 'internal error while resolving');
  return [{ ...base, message: `internal error (request ${requestId})`, extensions: { code: 'INTERNAL' } }];
};

export const errorFormatter = (
  execution: ExecutionResult & { statusCode?: number },
  ctx: { reply?: FastifyReply; app: { log: { error: (obj: unknown, msg: string) => void } } },
) => {
  const log = ctx.reply?.log ?? ctx.app.log;
  const requestId = ctx.reply?.request.id ?? '-';
  const errors = (execution.errors ?? []).flatMap((e) => formatError(e, log, requestId));
  const onlyValidation = !execution.data && errors.length > 0 && errors.every((e) => e.extensions.code === 'VALIDATION_FAILED');
  const unauthenticated = !execution.data && errors.length > 0 && errors.every((e) => e.extensions.code === 'UNAUTHENTICATED');
  return {
    statusCode: onlyValidation ? 400 : unauthenticated ? 401 : 200,
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
