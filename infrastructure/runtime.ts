import path from 'node:path';
import type pg from 'pg';
import { createEventStore, type EventStore } from '../application/eventStore.ts';
import type { CaseDeps } from '../application/cases.ts';
import { randomIds, systemClock } from '../application/ports.ts';
import type { Env } from './config.ts';
import { getPostgresCaseNumbers } from './postgres/caseNumbers.ts';
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
  readonly deps: CaseDeps;
  readonly projections: readonly Projection[];
  readonly blindIndex: (value: string) => string;
  /** Starts the projection runner and (unless DEADLINE_CLOCK=off) the deadline clock: what `serve` runs. */
  startBackground(): { runner: ProjectionRunner; clock: DeadlineClock | null };
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
    if (env.EVENT_STORE !== 'postgres') throw new Error(`EVENT_STORE=${env.EVENT_STORE} is not available in this build yet`);
    const store = createEventStore(getPostgresEventStoreAdapter({ pool, connectionString: databaseUrl, schema: env.DATABASE_SCHEMA }));
    const masterKey = await loadOrCreateSecret({
      name: 'GOVCASE_MASTER_KEY', value: env.GOVCASE_MASTER_KEY, home: env.GOVCASE_HOME, production: env.NODE_ENV === 'production', log,
    });
    const vault = createVault({ masterKeyHex: masterKey, keys: getPostgresKeyRing(pool) });
    const deps: CaseDeps = { store, clock: systemClock, ids: randomIds, caseNumbers: getPostgresCaseNumbers(pool), vault };
    const blindIndex = vault.subjectOf;
    const projections = createProjections({ blindIndex });
    // read-model tables exist before anything (the deadline clock, the API) reads them
    for (const p of projections) await createTablesOnce(pool, env.DATABASE_SCHEMA, p, '');
    let runner: ProjectionRunner | undefined;
    let clock: DeadlineClock | null = null;
    return {
      env, databaseUrl, embedded: embedded !== undefined, pool, store, deps, projections, blindIndex,
      startBackground() {
        runner ??= createProjectionRunner({ pool, store, projections, connectionString: databaseUrl, schema: env.DATABASE_SCHEMA, log });
        runner.start();
        if (env.DEADLINE_CLOCK === 'on') {
          clock = createDeadlineClock({ pool, deps, connectionString: databaseUrl, schema: env.DATABASE_SCHEMA, intervalMs: env.DEADLINE_CLOCK_INTERVAL_MS, log });
          clock.start();
        }
        return { runner, clock };
      },
      async close() {
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
