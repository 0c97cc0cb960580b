import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { createTokenVerifier, signToken } from '../../graphql/auth.ts';
import { createLiveEvents } from '../../graphql/liveEvents.ts';
import { buildServer, type ServerOptions } from '../../graphql/server.ts';
import { createVault } from '../../application/personalData.ts';
import { getPostgresKeyRing } from '../../infrastructure/postgres/dataKeys.ts';
import { getPostgresCaseNumbers } from '../../infrastructure/postgres/caseNumbers.ts';
import { createProjections } from '../../projections/index.ts';
import { createProjectionRunner, createTablesOnce } from '../../projections/runner.ts';
import type { Clock } from '../../application/ports.ts';
import { systemClock } from '../../application/ports.ts';
import type { createTestDatabase } from './db.ts';
import type { ApiDeps } from '../../graphql/context.ts';

export const JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';
export { TEST_MASTER_KEY as MASTER_KEY } from './app.ts';
import { TEST_MASTER_KEY as MASTER_KEY } from './app.ts';

/** A real server on a free port over a test database: HTTP and WebSocket, projections running. */
export const startTestServer = async (db: Awaited<ReturnType<typeof createTestDatabase>>, options: { clock?: Clock; rateLimit?: ServerOptions['rateLimit']; integrity?: ApiDeps['integrity']; audit?: ApiDeps['audit'] } = {}) => {
  const store = db.newStore();
  const vault = createVault({ masterKeyHex: MASTER_KEY, keys: getPostgresKeyRing(db.pool) });
  const blindIndex = vault.subjectOf;
  const projections = createProjections({ blindIndex });
  for (const p of projections) await createTablesOnce(db.pool, db.schema, p, '');
  const runner = createProjectionRunner({ pool: db.pool, store, projections, connectionString: db.connectionString, schema: db.schema });
  runner.start();
  const liveEvents = createLiveEvents(store);
  await liveEvents.start();
  const app: FastifyInstance = await buildServer({
    logLevel: 'silent',
    health: { checkDatabase: async () => void (await db.pool.query('select 1')) },
    graphiql: true,
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    api: {
      pool: db.pool, store, blindIndex, runner, liveEvents,
      write: { store, clock: options.clock ?? systemClock, ids: { uuid: () => randomUUID() }, caseNumbers: getPostgresCaseNumbers(db.pool), vault },
      verifier: createTokenVerifier({ secret: JWT_SECRET }),
      ...(options.integrity ? { integrity: options.integrity } : {}),
      ...(options.audit ? { audit: options.audit } : {}),
    },
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: address,
    app,
    runner,
    async close() {
      await app.close();
      await liveEvents.stop();
      await runner.stop();
    },
  };
};

export const token = (claims: { sub: string; roles: string[]; dept?: string; region?: string; name?: string }, ttl = '1h') =>
  signToken(JWT_SECRET, claims as Parameters<typeof signToken>[1], ttl);

export interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  data: T | null;
  errors?: { message: string; extensions?: { code?: string; [k: string]: unknown } }[];
}

export const gql = async <T = Record<string, any>>(url: string, query: string, variables: Record<string, unknown> = {}, bearer?: string): Promise<GqlResponse<T>> => {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as Omit<GqlResponse<T>, 'status'>;
  return { status: res.status, ...body };
};

export const codes = (r: GqlResponse) => (r.errors ?? []).map((e) => e.extensions?.code);

/** A graphql-ws client (the protocol mercurius speaks), enough for tests. */
export const subscribe = async (url: string, query: string, variables: Record<string, unknown>, bearer: string) => {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  const received: any[] = [];
  const waiters: (() => void)[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${bearer}` } })));
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw));
      if (msg.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
        resolve();
      } else if (msg.type === 'next') {
        received.push(msg.payload);
        waiters.splice(0).forEach((w) => w());
      } else if (msg.type === 'error') {
        received.push({ errors: msg.payload });
        waiters.splice(0).forEach((w) => w());
      }
    });
    ws.once('close', (code) => reject(new Error(`closed ${code}`)));
  });
  return {
    received,
    async waitFor(n: number, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < n && Date.now() < deadline) await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 200); });
      return received.length >= n;
    },
    close: () => ws.close(),
  };
};
