import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDeps } from '../../application/cases.ts';
import { createProjectionRunner, type ProjectionRunner } from '../../projections/runner.ts';
import { createServiceItemsProjection } from '../../projections/serviceItems/serviceItemsProjection.ts';
import { testClock, writeSide } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';
import { publishItems, runCases } from '../support/scenario.ts';

/**
 * A projection that has nothing to do for most pages (service items: only item events) does not
 * commit those pages one by one; its checkpoint still reaches the head soon after the log goes quiet
 * (SKIP_WINDOW_MS), and counts every event it went past.
 */
describe('the runner and pages a projection has nothing to do with', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let deps: CaseDeps;
  let runner: ProjectionRunner | undefined;
  const clock = testClock('2026-03-02T09:00:00+08:00');

  const checkpoint = async () =>
    (await db.pool.query<{ position: string | null; events: string }>("select position, events from projection_checkpoints where name = 'service_items'")).rows[0];
  const head = async () => (await deps.store.headPosition()) ?? null;
  const logSize = async () => Number((await db.pool.query<{ n: string }>('select count(*) as n from events')).rows[0]!.n);

  beforeAll(async () => {
    db = await createTestDatabase('proj_runner');
    deps = writeSide(db, clock);
  });
  afterAll(async () => {
    await runner?.stop();
    await db?.drop();
  });

  it('reaches the head and counts every event, also after a quiet spell with case events only', async () => {
    const projection = createServiceItemsProjection();
    expect(projection.eventTypes?.length).toBeGreaterThan(0);
    runner = createProjectionRunner({ pool: db.pool, store: db.newStore(), projections: [projection], connectionString: db.connectionString, schema: db.schema, batchSize: 50 });
    runner.start();
    const items = await publishItems(deps, 'R');
    await runCases(deps, items, 60, 3);
    // the item rows are there (those pages were applied) ...
    const caught = await runner.waitFor('service_items', async () => (await runner!.status())[0]!.lag === 0, 10_000);
    expect(caught).toBe(true);
    const rows = (await db.pool.query<{ n: string }>('select count(*) as n from service_items')).rows[0]!;
    expect(Number(rows.n)).toBe(items.length);
    // ... and the checkpoint stands at the head with every event counted, case events included
    const at = await checkpoint();
    expect(at?.position).toBe(await head());
    expect(Number(at?.events)).toBe(await logSize());

    // case events only: nothing to apply, the checkpoint still follows within the window
    await runCases(deps, items, 20, 4);
    const target = await head();
    expect(await runner.waitFor('service_items', async () => (await checkpoint())?.position === target, 5_000)).toBe(true);
    await runner.stop();
    runner = undefined;
    const after = await checkpoint();
    expect(after?.position).toBe(target);
    expect(Number(after?.events)).toBe(await logSize());
  });
});
