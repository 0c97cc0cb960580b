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
    const deps: CaseDeps = { store, clock: systemClock, ids: randomIds, caseNumbers: getPostgresCaseNumbers(pool) };
    return {
      env, databaseUrl, embedded: embedded !== undefined, pool, store, deps,
      async close() {
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
