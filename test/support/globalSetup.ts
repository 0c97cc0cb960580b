import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../infrastructure/postgres/embedded.ts';

/**
 * Where the integration tests find their services, in this order: DATABASE_URL / REDIS_URL; else a
 * container runtime through testcontainers; else the embedded PostgreSQL (and Redis tests skip,
 * saying so). Each test file then works in a schema of its own.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    databaseSource: string;
    redisUrl: string | null;
  }
}

let embedded: EmbeddedDatabase | undefined;
let stopContainers: (() => Promise<void>) | undefined;

const tryContainers = async (): Promise<{ db: string; redis: string } | null> => {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await Promise.race([
      getContainerRuntimeClient(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 5_000)),
    ]);
    const { GenericContainer, Wait } = await import('testcontainers');
    const pg = await new GenericContainer('postgres:15-alpine')
      .withEnvironment({ POSTGRES_PASSWORD: 'govcase', POSTGRES_DB: 'test' })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
    const redis = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
    stopContainers = async () => {
      await pg.stop();
      await redis.stop();
    };
    return {
      db: `postgres://postgres:govcase@${pg.getHost()}:${pg.getMappedPort(5432)}/test`,
      redis: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
    };
  } catch {
    return null;
  }
};

export default async function setup(project: TestProject) {
  let databaseUrl = process.env.DATABASE_URL;
  let redisUrl = process.env.REDIS_URL ?? null;
  let source = 'DATABASE_URL';
  if (!databaseUrl) {
    const containers = await tryContainers();
    if (containers) {
      databaseUrl = containers.db;
      redisUrl ??= containers.redis;
      source = 'testcontainers';
    } else {
      embedded = await startEmbeddedPostgres({ dataDir: '.govcase/test-pg', log: (m) => console.log(`[test setup] ${m}`) });
      databaseUrl = embedded.connectionString;
      source = 'embedded PostgreSQL';
    }
  }
  console.log(`[test setup] PostgreSQL from ${source}; Redis: ${redisUrl ?? 'none (tests that need Redis are skipped)'}`);
  project.provide('databaseUrl', databaseUrl);
  project.provide('databaseSource', source);
  project.provide('redisUrl', redisUrl);
  return async () => {
    await stopContainers?.();
    await embedded?.stop();
  };
}
