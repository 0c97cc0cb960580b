import type pg from 'pg';
import type { CaseDeps } from '../application/cases.ts';
import type { EventStore, RecordedEvent } from '../application/eventStore.ts';
import { GovcaseError } from '../domain/errors.ts';
import type { Principal } from '../domain/permissions.ts';
import type { ProjectionRunner } from '../projections/runner.ts';
import type { TokenVerifier } from './auth.ts';
import type { Integrity } from '../infrastructure/integrity/index.ts';
import type { PostgresAuditTrail } from '../infrastructure/integrity/auditLog.ts';

/** What the GraphQL layer is given by the composition root. */
export interface ApiDeps {
  readonly pool: pg.Pool;
  readonly store: EventStore;
  readonly write: CaseDeps;
  readonly blindIndex: (value: string) => string;
  readonly runner: ProjectionRunner;
  readonly verifier: TokenVerifier;
  /** how long `case(atLeastVersion)` waits for the read model (ms) */
  readonly readYourWritesTimeoutMs?: number;
  /** live events for subscriptions, one tail of the log per process */
  readonly liveEvents: LiveEvents;
  /** Signed integrity checkpoints and verification (absent: verifyIntegrity checks the hash chains only). */
  readonly integrity?: Integrity | null | undefined;
  /** The access and refusal audit (absent: nothing is recorded). */
  readonly audit?: PostgresAuditTrail | undefined;
}

export interface LiveEvents {
  subscribe(listener: (events: readonly RecordedEvent[]) => void): () => void;
}

export interface RequestMeta {
  readonly requestId: string;
  readonly sourceAddress: string;
  readonly clientApp: string | undefined;
  readonly correlationId: string | undefined;
}

export interface GraphQLContext {
  readonly principal: Principal | null;
  readonly meta: RequestMeta;
  readonly api: ApiDeps;
}

export const requirePrincipal = (ctx: GraphQLContext): Principal => {
  if (!ctx.principal) throw new GovcaseError('UNAUTHENTICATED', 'a bearer token is required (Authorization: Bearer <JWT>)');
  return ctx.principal;
};

export const bearerToken = (header: string | undefined): string | null => {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!m) throw new GovcaseError('UNAUTHENTICATED', 'the Authorization header must be "Bearer <JWT>"');
  return m[1]!;
};
