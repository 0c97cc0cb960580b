import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../../infrastructure/config.ts';
import { startRuntime } from '../../infrastructure/runtime.ts';

/** Slow (initdb): the embedded default boots with no DATABASE_URL, keeps data across a restart. */
describe('the embedded default (slow)', () => {
  const home = `.govcase/test-embedded-${randomUUID().slice(0, 8)}`;
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('boots without DATABASE_URL, appends, restarts, and reads the event back', async () => {
    const env = loadEnv({ GOVCASE_HOME: home, LOG_LEVEL: 'silent' });
    expect(env.DATABASE_URL).toBeUndefined();
    const logs: string[] = [];
    const first = await startRuntime(env, (m) => logs.push(m));
    expect(first.embedded).toBe(true);
    const streamId = `case-${randomUUID()}`;
    const appended = await first.store.appendToStream(streamId, [
      { type: 'Probe', data: { hello: '办件' }, metadata: { actorId: 'test', actorRole: 'admin', occurredAt: new Date().toISOString() } },
    ]);
    await first.close();

    const second = await startRuntime(env, (m) => logs.push(m));
    try {
      const read = await second.store.readStream(streamId);
      expect(read).toHaveLength(1);
      expect(read[0]).toMatchObject({ type: 'Probe', data: { hello: '办件' }, hash: appended.events[0]!.hash });
    } finally {
      await second.close();
    }
    expect(logs.some((l) => l.includes('initialising embedded PostgreSQL'))).toBe(true);
    if (process.getuid?.() === 0) expect(logs.some((l) => l.includes('createPostgresUser: true'))).toBe(true);
    // initialised once, migrated once
    expect(logs.filter((l) => l.includes('initialising')).length).toBe(1);
  }, 180_000);
});
