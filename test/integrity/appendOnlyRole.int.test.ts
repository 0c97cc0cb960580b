import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPostgresEventStore } from '../../infrastructure/postgres/eventStore.ts';
import { createPool } from '../../infrastructure/postgres/pool.ts';
import { createTestDatabase } from '../support/db.ts';

/** The role docs/audit.md tells operators to run the server under: it appends, and cannot change the log. */
describe('the append-only database role of docs/audit.md', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const role = `govcase_app_${randomBytes(4).toString('hex')}`;
  let admin: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase('role');
    admin = new pg.Client({ connectionString: db.connectionString });
    await admin.connect();
    const s = db.schema;
    // the statements of docs/audit.md, with the test's schema for `public`
    for (const sql of [
      `create role ${role} login`,
      `grant usage, create on schema ${s} to ${role}`,
      `grant select, insert, update, delete on all tables in schema ${s} to ${role}`,
      `grant usage, select on all sequences in schema ${s} to ${role}`,
      `revoke update, delete, truncate on ${s}.events from ${role}`,
    ]) await admin.query(sql);
  });
  afterAll(async () => {
    await db?.drop();
    await admin?.query(`drop owned by ${role}`).catch(() => {});
    await admin?.query(`drop role if exists ${role}`).catch(() => {});
    await admin?.end();
  });

  it('appends and reads through the store, and is refused UPDATE, DELETE, TRUNCATE and disabling the trigger', async () => {
    const url = new URL(db.connectionString);
    url.username = role;
    url.password = '';
    const pool = createPool({ connectionString: url.toString(), schema: db.schema, max: 2 });
    const store = getPostgresEventStore({ pool, connectionString: url.toString(), schema: db.schema });
    try {
      const r = await store.appendToStream('case-role', [{ type: 'Noted', data: { n: 1 }, metadata: { actorId: 'a', actorRole: 'clerk', occurredAt: new Date().toISOString() } }], { expectedVersion: 'no_stream', commandId: `cmd-${role}` });
      expect(r.version).toBe(0);
      await store.appendToStream('case-role', [{ type: 'Noted', data: { n: 2 }, metadata: { actorId: 'a', actorRole: 'clerk', occurredAt: new Date().toISOString() } }], { expectedVersion: 0 });
      expect((await store.readStream('case-role')).map((e) => e.revision)).toEqual([0, 1]);
      for (const sql of ['update events set type = type', 'delete from events', 'truncate events'])
        await expect(pool.query(sql)).rejects.toThrow(/permission denied/);
      await expect(pool.query('alter table events disable trigger all')).rejects.toThrow(/must be owner/);
    } finally {
      await store.close();
      await pool.end();
    }
  });
});
