import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDeps } from '../../application/cases.ts';
import { createCasesProjection } from '../../projections/cases/casesProjection.ts';
import { tableNames, type Projection } from '../../projections/projection.ts';
import { rebuildProjection } from '../../projections/rebuild.ts';
import { createProjectionRunner, type ProjectionRunner } from '../../projections/runner.ts';
import { createTestDatabase } from '../support/db.ts';
import { testClock, writeSide } from '../support/app.ts';
import { publishItems, runCases, type ScenarioItem } from '../support/scenario.ts';

const blindIndex = (id: string) => `idx:${id}`;

describe('cases projection through the runner', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let deps: CaseDeps;
  let items: ScenarioItem[];
  let runner: ProjectionRunner;
  const clock = testClock('2026-03-02T09:00:00+08:00');

  /** The case rows, and the maintained counts (which must equal counting those rows). */
  const snapshot = async (table: string) => {
    const rows = (await db.pool.query(`select case_id, case_number, version, status, department_code, deadline::text, warning_from::text, clock_running, applicant_index, state from ${table} order by case_id`)).rows;
    const key = 'department_code, region_code, item_code, status';
    const counts = (await db.pool.query(`select ${key}, n::int from ${table.replace(/^cases/, 'case_counts')} order by ${key}`)).rows;
    expect(counts).toEqual((await db.pool.query(`select ${key}, count(*)::int as n from ${table} group by ${key} order by ${key}`)).rows);
    return { rows, counts };
  };

  beforeAll(async () => {
    db = await createTestDatabase('proj_cases');
    deps = writeSide(db, clock);
    items = await publishItems(deps, 'P');
  });
  afterAll(async () => {
    await runner?.stop();
    await db?.drop();
  });

  it('projects cases and gives read-your-writes without polling', async () => {
    runner = createProjectionRunner({ pool: db.pool, store: db.newStore(), projections: [createCasesProjection({ blindIndex })], connectionString: db.connectionString, schema: db.schema });
    runner.start();
    const ids = await runCases(deps, items, 200, 7);
    const last = ids.at(-1)!;
    const version = (await deps.store.readStream(`case-${last}`)).at(-1)!.revision;
    const reached = await runner.waitFor('cases', async () => {
      const r = await db.pool.query('select version from cases where case_id = $1', [last]);
      return (r.rows[0]?.version ?? -1) >= version;
    }, 10_000);
    expect(reached).toBe(true);
    const row = (await db.pool.query('select * from cases where case_id = $1', [last])).rows[0];
    expect(row.version).toBe(version);
    const status = await runner.status();
    expect(status[0]).toMatchObject({ name: 'cases', status: 'running' });
  });

  it('a runner that crashes mid-batch restarts and ends equal to a clean rebuild', async () => {
    const real = createCasesProjection({ blindIndex });
    let calls = 0;
    const flaky: Projection = {
      ...real,
      async apply(client, events, t) {
        await real.apply(client, events, t);
        calls++;
        if (calls % 5 === 0) throw new Error('simulated crash inside the transaction');
      },
    };
    await runner.stop();
    runner = createProjectionRunner({ pool: db.pool, store: db.newStore(), projections: [flaky], connectionString: db.connectionString, schema: db.schema, batchSize: 100 });
    runner.start();
    await runCases(deps, items, 300, 8);
    const head = (await deps.store.readAll({ limit: 1 })).events.length;
    expect(head).toBe(1);
    const caught = await runner.waitFor('cases', async () => (await runner.status())[0]!.lag === 0, 30_000);
    expect(caught).toBe(true);
    expect(calls).toBeGreaterThan(3);
    await rebuildProjection({ pool: db.pool, store: db.newStore(), projection: real, schema: db.schema, switchOver: false });
    expect(await snapshot('cases__rebuild')).toEqual(await snapshot('cases'));
  });

  it('concurrent writers + runner: the read model equals a rebuild; then a rebuild switches over without stopping the runner', async () => {
    await runner.stop();
    runner = createProjectionRunner({ pool: db.pool, store: db.newStore(), projections: [createCasesProjection({ blindIndex })], connectionString: db.connectionString, schema: db.schema });
    runner.start();
    const other = { ...deps, store: db.newStore() };
    await Promise.all([runCases(deps, items, 150, 11, 6), runCases(other, items, 150, 12, 6)]);
    await runner.waitFor('cases', async () => (await runner.status())[0]!.lag === 0, 30_000);
    const progress: number[] = [];
    await rebuildProjection({ pool: db.pool, store: db.newStore(), projection: createCasesProjection({ blindIndex }), schema: db.schema, switchOver: false, onProgress: (p) => progress.push(p.done) });
    expect(await snapshot('cases__rebuild')).toEqual(await snapshot('cases'));
    // switch over while writes continue; the live runner picks up from the switched checkpoint
    const writing = runCases(deps, items, 50, 13, 4);
    const done = await rebuildProjection({ pool: db.pool, store: db.newStore(), projection: createCasesProjection({ blindIndex }), schema: db.schema });
    expect(done.phase).toBe('done');
    await writing;
    await runner.waitFor('cases', async () => (await runner.status())[0]!.lag === 0, 30_000);
    await rebuildProjection({ pool: db.pool, store: db.newStore(), projection: createCasesProjection({ blindIndex }), schema: db.schema, switchOver: false });
    expect(await snapshot('cases__rebuild')).toEqual(await snapshot('cases'));
    const count = (await db.pool.query('select count(*)::int as n from cases')).rows[0].n;
    expect(count).toBeGreaterThan(800);
  });

  it('an interrupted rebuild resumes from its checkpoint', async () => {
    const ac = new AbortController();
    const first = await rebuildProjection({
      pool: db.pool, store: db.newStore(), projection: createCasesProjection({ blindIndex }), schema: db.schema, batchSize: 500, fresh: true,
      signal: ac.signal, onProgress: (p) => { if (p.done >= 1000) ac.abort(); },
    });
    expect(first.phase).toBe('interrupted');
    const second = await rebuildProjection({ pool: db.pool, store: db.newStore(), projection: createCasesProjection({ blindIndex }), schema: db.schema, batchSize: 500 });
    expect(second.phase).toBe('done');
    expect(second.done).toBe(second.total);
  });

  it('a rebuild that flushes many short stretches equals the live read model, also after a crash inside a flush', async () => {
    await runCases(deps, items, 60, 21, 4);
    await runner.waitFor('cases', async () => (await runner.status())[0]!.lag === 0, 30_000);
    const real = createCasesProjection({ blindIndex });
    // a session that crashes in its third flush, after writing its rows, inside the checkpoint's transaction
    let flushes = 0;
    const crashing: Projection = {
      ...real,
      replay(t) {
        const session = real.replay!(t);
        return {
          get size() { return session.size; },
          fold: (db, events) => session.fold(db, events),
          async flush(db, keep) {
            await session.flush(db, keep);
            if (++flushes === 3) throw new Error('simulated crash inside the flush');
          },
        };
      },
    };
    const small = { batchSize: 50, maxRows: 40 };
    await expect(rebuildProjection({ pool: db.pool, store: db.newStore(), projection: crashing, schema: db.schema, switchOver: false, fresh: true, ...small }))
      .rejects.toThrow('simulated crash');
    const before = (await db.pool.query(`select events from projection_checkpoints where name = 'cases@rebuild'`)).rows[0].events;
    expect(Number(before)).toBeGreaterThan(0);
    // resumed from the last committed flush, with a session that starts empty
    const resumed = await rebuildProjection({ pool: db.pool, store: db.newStore(), projection: real, schema: db.schema, switchOver: false, ...small });
    expect(resumed.phase).toBe('done');
    expect(await snapshot('cases__rebuild')).toEqual(await snapshot('cases'));
    // built bare: the primary key only until the switch-over indexes it
    const bare = await db.pool.query(`select indexname from pg_indexes where schemaname = $1 and tablename = 'cases__rebuild'`, [db.schema]);
    expect(bare.rows.map((r) => r.indexname)).toEqual(['cases__rebuild_pkey']);
  });

  it('an interrupted rebuild flushes what it folded, resumes, and switches over with every index under its live name', async () => {
    const ac = new AbortController();
    const first = await rebuildProjection({
      pool: db.pool, store: db.newStore(), projection: createCasesProjection({ blindIndex }), schema: db.schema, batchSize: 200, maxRows: 100_000, fresh: true,
      signal: ac.signal, onProgress: (p) => { if (p.done >= 1_000) ac.abort(); },
    });
    expect(first.phase).toBe('interrupted');
    const kept = (await db.pool.query(`select events from projection_checkpoints where name = 'cases@rebuild'`)).rows[0].events;
    expect(Number(kept)).toBe(first.done);
    const second = await rebuildProjection({ pool: db.pool, store: db.newStore(), projection: createCasesProjection({ blindIndex }), schema: db.schema, batchSize: 200 });
    expect(second.phase).toBe('done');
    await runner.waitFor('cases', async () => (await runner.status())[0]!.lag === 0, 30_000);
    await rebuildProjection({ pool: db.pool, store: db.newStore(), projection: createCasesProjection({ blindIndex }), schema: db.schema, switchOver: false, fresh: true });
    expect(await snapshot('cases__rebuild')).toEqual(await snapshot('cases'));
    // the switched-over table has the indexes a freshly created one has
    const client = await db.pool.connect();
    try {
      await createCasesProjection({ blindIndex }).createTables(client, tableNames('probe'));
    } finally {
      client.release();
    }
    const names = async (table: string) => (await db.pool.query<{ indexname: string; indexdef: string }>(
      'select indexname, indexdef from pg_indexes where schemaname = $1 and tablename = $2 order by 1', [db.schema, table],
    )).rows.map((r) => ({
      name: r.indexname.replace(table, 'T'), unique: r.indexdef.startsWith('CREATE UNIQUE'), def: r.indexdef.slice(r.indexdef.indexOf(' USING ')),
    }));
    const live = await names('cases');
    expect(live.length).toBe(13);
    expect(live).toEqual(await names('cases__probe'));
  });
});
