import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectRedis, type SharedRedis } from '../../infrastructure/redis.ts';
import { createTestDatabase } from '../support/db.ts';
import { codes, gql, startTestServer, token } from '../support/server.ts';

const redisUrl = inject('redisUrl');
if (!redisUrl) console.warn('rate limits across nodes: skipped, no Redis (set REDIS_URL)');

describe.skipIf(!redisUrl)('rate limits per token, shared through Redis, degrading to in-process', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let redis: SharedRedis;
  let deadRedis: SharedRedis;
  const servers: Awaited<ReturnType<typeof startTestServer>>[] = [];
  beforeAll(async () => {
    db = await createTestDatabase('ratelimit');
    redis = await connectRedis(redisUrl!);
    deadRedis = await connectRedis('redis://127.0.0.1:1');
    const windowMs = 60_000;
    servers.push(await startTestServer(db, { rateLimit: { max: 5, windowMs, redis } }));
    servers.push(await startTestServer(db, { rateLimit: { max: 5, windowMs, redis } }));
    servers.push(await startTestServer(db, { rateLimit: { max: 3, windowMs, redis: deadRedis } }));
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await redis?.close();
    await deadRedis?.close();
    await db?.drop();
  });

  it('two nodes count one token together; the next request is RATE_LIMITED with HTTP 429', async () => {
    const t = await token({ sub: `rl-${Date.now()}`, roles: ['auditor'] });
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await gql(servers[i % 2]!.url, '{ me { id } }', {}, t));
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers[5]!.status).toBe(429);
    expect(codes(answers[5]!)).toEqual(['RATE_LIMITED']);
    // another token is not affected
    const other = await token({ sub: `rl-other-${Date.now()}`, roles: ['auditor'] });
    expect((await gql(servers[1]!.url, '{ me { id } }', {}, other)).status).toBe(200);
  });

  it('without a reachable Redis the limit is counted in-process and requests still succeed', async () => {
    expect(deadRedis.ready()).toBe(false);
    const t = await token({ sub: `rl-dead-${Date.now()}`, roles: ['auditor'] });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await gql(servers[2]!.url, '{ me { id } }', {}, t)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});
