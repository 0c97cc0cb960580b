import path from 'node:path';
import type pg from 'pg';
import { createEventStore, type EventStore, type EventStoreAdapter } from '../application/eventStore.ts';
import type { CaseDeps } from '../application/cases.ts';
import { createServiceItemCache } from '../application/serviceItems.ts';
import { randomIds, systemClock } from '../application/ports.ts';
import type { Env } from './config.ts';
import { getPostgresCaseNumbers } from './postgres/caseNumbers.ts';
import { createCaseStateCache } from '../application/caseCache.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './postgres/embedded.ts';
import { getPostgresEventStoreAdapter } from './postgres/eventStore.ts';
import { migrate } from './postgres/migrate.ts';
import { createPool, ensureSchema } from './postgres/pool.ts';
import { loadOrCreateSecret } from './keys.ts';
import { createVault } from '../application/personalData.ts';
import { getPostgresKeyRing } from './postgres/dataKeys.ts';
import { createProjections } from '../projections/index.ts';
import type { Projection } from '../projections/projection.ts';
import { createProjectionRunner, createTablesOnce, type ProjectionRunner } from '../projections/runner.ts';
import { createDeadlineClock, type DeadlineClock } from '../projections/deadlineClock.ts';
import { configuredExchangeTargets, createExchangeFromEnv } from './exchange/fromEnv.ts';
import type { Dispatcher } from './exchange/dispatcher.ts';
import { createIntegrity, type Integrity } from './integrity/index.ts';
import { createPeriodicCheckpoints, type PeriodicCheckpoints } from './integrity/periodic.ts';
import { loadSigningKey } from './integrity/sm2.ts';
import { createPostgresAuditTrail, type PostgresAuditTrail } from './integrity/auditLog.ts';

/**
 * The composition root's data half: the database (given, or the embedded default), migrations, the
 * event store and the write side's dependencies. `close()` releases all of it, in order.
 */
export interface Runtime {
  readonly env: Env;
  readonly databaseUrl: string;
  readonly embedded: boolean;
  readonly pool: pg.Pool;
  readonly store: EventStore;
  /** The store's adapter, under the port: for `govcase import`, which appends events as exported. */
  readonly adapter: EventStoreAdapter;
  readonly deps: CaseDeps;
  readonly projections: readonly Projection[];
  readonly blindIndex: (value: string) => string;
  /** Signed integrity checkpoints and verification (PostgreSQL event store only; null with EventStoreDB). */
  readonly integrity: Integrity | null;
  /** The access and refusal audit (batched writes; flushed on close). */
  readonly audit: PostgresAuditTrail;
  /** Starts the projection runner and (unless DEADLINE_CLOCK=off) the deadline clock: what `serve` runs. */
  startBackground(): { runner: ProjectionRunner; clock: DeadlineClock | null; exchange: Dispatcher | null };
  close(): Promise<void>;
}

export const startRuntime = async (env: Env, log: (msg: string) => void): Promise<Runtime> => {
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    log('DATABASE_URL is not set: starting the embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({ dataDir: path.join(env.GOVCASE_HOME, 'pg'), log });
    databaseUrl = embedded.connectionString;
  }
  try {
    if (env.DATABASE_SCHEMA !== 'public') await ensureSchema(databaseUrl, env.DATABASE_SCHEMA);
    const pool = createPool({ connectionString: databaseUrl, schema: env.DATABASE_SCHEMA, max: env.DATABASE_POOL_SIZE });
    const report = await migrate(pool, log);
    log(`schema up to date (${report.applied.length} migration(s) applied now, ${report.alreadyApplied} before)`);
    // the event log in PostgreSQL (default) or EventStoreDB; read models stay in PostgreSQL either way
    // (the EventStoreDB client and its gRPC stack are loaded only when used: ~20 MB of RSS otherwise)
    const esdb = env.EVENT_STORE === 'eventstoredb' ? await import('./eventstoredb/eventStore.ts') : null;
    const adapter = esdb
      ? esdb.getEventStoreDbAdapter({ connectionString: env.EVENTSTORE_URL!, log })
      : getPostgresEventStoreAdapter({ pool, connectionString: databaseUrl, schema: env.DATABASE_SCHEMA });
    const store = createEventStore(adapter);
    if (esdb) await esdb.waitForEventStoreDb(store, env.EVENTSTORE_URL!, log).catch(async (err) => {
      await store.close().catch(() => {});
      await pool.end().catch(() => {});
      throw err;
    });
    const masterKey = await loadOrCreateSecret({
      name: 'GOVCASE_MASTER_KEY', value: env.GOVCASE_MASTER_KEY, home: env.GOVCASE_HOME, production: env.NODE_ENV === 'production', log,
    });
    const vault = createVault({ masterKeyHex: masterKey, keys: getPostgresKeyRing(pool) });
    const items = env.SERVICE_ITEM_CACHE_MS > 0 ? createServiceItemCache(store, { ttlMs: env.SERVICE_ITEM_CACHE_MS }) : undefined;
    const cache = env.CASE_CACHE_SIZE > 0 ? createCaseStateCache(env.CASE_CACHE_SIZE) : undefined;
    const deps: CaseDeps = { store, clock: systemClock, ids: randomIds, caseNumbers: getPostgresCaseNumbers(pool), vault, items, cache };
    const blindIndex = vault.subjectOf;
    const projections = createProjections({ blindIndex, exchangeTargets: configuredExchangeTargets(env) });
    // read-model tables exist before anything (the deadline clock, the API) reads them
    for (const p of projections) await createTablesOnce(pool, env.DATABASE_SCHEMA, p, '');
    let runner: ProjectionRunner | undefined;
    let clock: DeadlineClock | null = null;
    let exchange: Dispatcher | null | undefined;
    const signingKey = await loadSigningKey({
      value: env.GOVCASE_SIGNING_KEY, file: env.GOVCASE_SIGNING_KEY_FILE, home: env.GOVCASE_HOME, production: env.NODE_ENV === 'production', log,
    });
    const integrity = env.EVENT_STORE === 'postgres' ? createIntegrity({ pool, store, signingKey, clock: systemClock }) : null;
    let checkpoints: PeriodicCheckpoints | undefined;
    const audit = createPostgresAuditTrail({ pool, log });
    // the national exchange (only when EXCHANGE_DB_URL or HAOCHAPING_URL is set), created now, started with the background work
    const dispatcher = await createExchangeFromEnv({ env, databaseUrl, store, vault, log });
    return {
      env, databaseUrl, embedded: embedded !== undefined, pool, store, adapter, deps, projections, blindIndex, integrity, audit,
      startBackground() {
        runner ??= createProjectionRunner({ pool, store, projections, connectionString: databaseUrl, schema: env.DATABASE_SCHEMA, log });
        runner.start();
        if (env.DEADLINE_CLOCK === 'on') {
          clock = createDeadlineClock({ pool, deps, connectionString: databaseUrl, schema: env.DATABASE_SCHEMA, intervalMs: env.DEADLINE_CLOCK_INTERVAL_MS, log });
          clock.start();
        }
        if (integrity && env.INTEGRITY_CHECKPOINT_INTERVAL_MS > 0) {
          checkpoints ??= createPeriodicCheckpoints({ pool, checkpointer: integrity.checkpointer, intervalMs: env.INTEGRITY_CHECKPOINT_INTERVAL_MS, log });
          checkpoints.start();
        }
        // the national exchange: one leader across nodes
        exchange ??= dispatcher;
        exchange?.start();
        return { runner, clock, exchange };
      },
      async close() {
        await exchange?.stop();
        await checkpoints?.stop();
        await audit.close();
        await clock?.stop();
        await runner?.stop();
        await store.close();
        await pool.end();
        await embedded?.stop();
      },
    };
  } catch (err) {
    await embedded?.stop().catch(() => {});
    throw err;
  }
};
