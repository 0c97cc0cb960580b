import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoints } from '../../application/integrity.ts';
import { systemClock } from '../../application/ports.ts';
import { createIntegrity } from '../../infrastructure/integrity/index.ts';
import { createPeriodicCheckpoints } from '../../infrastructure/integrity/periodic.ts';
import { generateSigningKey } from '../../infrastructure/integrity/sm2.ts';
import { createTestDatabase } from '../support/db.ts';

/** Periodic checkpoints: one leader among several processes, a checkpoint only when the log moved. */
describe('periodic integrity checkpoints', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase('periodic');
  });
  afterAll(async () => {
    await db?.drop();
  });

  const waitFor = async (what: () => Promise<boolean>, timeoutMs = 20_000) => {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (await what()) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  };

  it('two nodes: the checkpoints form one series covering every append; none while nothing moves', async () => {
    const key = generateSigningKey();
    const store = db.newStore();
    const nodes = [0, 1].map(() => {
      const integrity = createIntegrity({ pool: db.pool, store: db.newStore(), signingKey: key, clock: systemClock });
      return { integrity, periodic: createPeriodicCheckpoints({ pool: db.pool, checkpointer: integrity.checkpointer, intervalMs: 100 }) };
    });
    nodes.forEach((n) => n.periodic.start());
    try {
      for (let i = 0; i < 5; i++)
        await store.appendToStream(`case-p${i}`, [{ type: 'Noted', data: { i }, metadata: { actorId: 'a', actorRole: 'clerk', occurredAt: new Date().toISOString() } }], { expectedVersion: 'no_stream' });
      const head = (await store.headPosition())!;
      expect(await waitFor(async () => (await readCheckpoints(store)).some((c) => c.streams === 5 && store.comparePositions(c.position, head) >= 0))).toBe(true);
      const settled = (await readCheckpoints(store)).length;
      await new Promise((r) => setTimeout(r, 1_000)); // ten intervals with nothing appended
      expect((await readCheckpoints(store)).length).toBe(settled);
      const report = await nodes[1]!.integrity.verify();
      expect(report.problems).toEqual([]);
      expect(report.checkpoint?.sequence).toBe(settled);
    } finally {
      await Promise.all(nodes.map((n) => n.periodic.stop()));
    }
  });
});
