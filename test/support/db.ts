import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createPool, ensureSchema } from '../../infrastructure/postgres/pool.ts';
import { migrate } from '../../infrastructure/postgres/migrate.ts';
import { getPostgresEventStore } from '../../infrastructure/postgres/eventStore.ts';

/** A fresh, migrated schema of its own for one test file; `drop()` removes it. */
export const createTestDatabase = async (label: string) => {
  const connectionString = inject('databaseUrl');
  const schema = `t_${label.replace(/\W/g, '_').toLowerCase().slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  await ensureSchema(connectionString, schema);
  const pool = createPool({ connectionString, schema, max: 20 });
  await migrate(pool);
  const stores: { close(): Promise<void> }[] = [];
  return {
    connectionString,
    schema,
    pool,
    newStore: (opts: { maxInFlight?: number } = {}) => {
      const store = getPostgresEventStore({ pool, connectionString, schema, ...opts });
      stores.push(store);
      return store;
    },
    async drop() {
      for (const s of stores) await s.close().catch(() => {});
      await pool.end();
      const c = new pg.Client({ connectionString });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
};
