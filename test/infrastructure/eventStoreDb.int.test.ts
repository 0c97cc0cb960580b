import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { EventStore } from '../../application/eventStore.ts';
import { getEventStoreDbEventStore, waitForEventStoreDb } from '../../infrastructure/eventstoredb/eventStore.ts';
import { runEventStoreContract } from './eventStore.contract.ts';
import { codeOf } from '../support/codes.ts';

/**
 * The store contract against a real EventStoreDB: EVENTSTORE_URL when set (e.g.
 * `esdb://127.0.0.1:2113?tls=false`), else a container when testcontainers finds a runtime
 * (EVENTSTORE_IMAGE, default eventstore/eventstore:24.10; kurrentplatform/kurrentdb works too),
 * else the whole suite is registered as SKIPPED, with the reason in its name and on stderr.
 */
const IMAGE = process.env.EVENTSTORE_IMAGE ?? 'eventstore/eventstore:24.10';

const findTarget = async (): Promise<{ kind: 'url'; url: string } | { kind: 'container' } | { kind: 'skip'; reason: string }> => {
  if (process.env.EVENTSTORE_URL) return { kind: 'url', url: process.env.EVENTSTORE_URL };
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    // fails in well under a second without a runtime; never wait long for one
    await Promise.race([getContainerRuntimeClient(), new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 5 s')), 5_000))]);
    return { kind: 'container' };
  } catch (err) {
    return { kind: 'skip', reason: `EVENTSTORE_URL is not set and testcontainers found no container runtime (${(err as Error).message})` };
  }
};

const startContainer = async () => {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(IMAGE)
    // an insecure single node in memory; KurrentDB images read the same options under their own prefix
    .withEnvironment(Object.fromEntries(Object.entries({
      INSECURE: 'true', CLUSTER_SIZE: '1', MEM_DB: 'true', RUN_PROJECTIONS: 'All', START_STANDARD_PROJECTIONS: 'true',
    }).map(([k, v]) => [`${IMAGE.includes('kurrent') ? 'KURRENTDB' : 'EVENTSTORE'}_${k}`, v])))
    .withExposedPorts(2113)
    .withWaitStrategy(Wait.forHttp('/health/live', 2113).forStatusCodeMatching((code) => code >= 200 && code < 300))
    .withStartupTimeout(120_000)
    .start();
  return { url: `esdb://${container.getHost()}:${container.getMappedPort(2113)}?tls=false`, stop: () => container.stop() };
};

const target = await findTarget();

if (target.kind === 'skip') {
  const why = `SKIPPED — no EventStoreDB: ${target.reason}`;
  console.warn(`[eventStoreDb.int.test] the EventStoreDB contract suite is ${why}`);
  // the whole contract, registered and skipped: every case shows as skipped, none as passed
  describe.skip(`EventStoreDB adapter (${why})`, () => {
    runEventStoreContract('EventStoreDB', async () => null);
    it('runs the store contract against a real EventStoreDB', () => {});
  });
} else {
  runEventStoreContract(`EventStoreDB (${target.kind === 'url' ? 'EVENTSTORE_URL' : IMAGE})`, async () => {
    const server = target.kind === 'url' ? { url: target.url, stop: async () => {} } : await startContainer();
    const stores: EventStore[] = [];
    return {
      connect: () => {
        // each call is its own client, like another process
        const store = getEventStoreDbEventStore({ connectionString: server.url });
        stores.push(store);
        return store;
      },
      cleanup: async () => {
        for (const s of stores) await s.close().catch(() => {});
        await server.stop();
      },
      // over the default MaxAppendSize (1 MiB): the cluster refuses the whole append
      poisonData: { text: 'x'.repeat(2 * 1024 * 1024) },
    };
  });
}

// This part needs no EventStoreDB: a real client against a port where nothing listens.
describe('EventStoreDB adapter, cluster unreachable (runs everywhere)', () => {
  const closedPort = async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((r) => server.close(() => r()));
    return port;
  };

  it('every call answers UNAVAILABLE at once; a subscription keeps retrying until aborted; the boot check gives up', async () => {
    const url = `esdb://127.0.0.1:${await closedPort()}?tls=false`;
    const store = getEventStoreDbEventStore({ connectionString: url, deadlineMs: 2_000 });
    const ev = { type: 'A', data: {}, metadata: { actorId: 'a', actorRole: 'clerk', occurredAt: new Date().toISOString() } };
    expect(await codeOf(store.streamHead('case-1'))).toBe('UNAVAILABLE');
    expect(await codeOf(store.readStream('case-1'))).toBe('UNAVAILABLE');
    expect(await codeOf(store.readAll({}))).toBe('UNAVAILABLE');
    expect(await codeOf(store.headPosition())).toBe('UNAVAILABLE');
    expect(await codeOf(store.appendToStream('case-1', [ev], { commandId: 'c-1' }))).toBe('UNAVAILABLE');
    expect(await codeOf(store.appendToStream('case-1', [ev], { expectedVersion: 'no_stream' }))).toBe('UNAVAILABLE');
    // the port still refuses what is wrong before reaching the cluster
    expect(await codeOf(store.readAll({ after: '12:34' }))).toBe('VALIDATION_FAILED');

    const ac = new AbortController();
    const pages: number[] = [];
    const sub = (async () => {
      for await (const page of store.subscribeToAll({ signal: ac.signal })) pages.push(page.length);
      return 'ended';
    })();
    await new Promise((r) => setTimeout(r, 1_000));
    ac.abort();
    expect(await sub).toBe('ended');
    expect(pages).toEqual([]);

    const logged: string[] = [];
    expect(await codeOf(waitForEventStoreDb(store, url, (m) => logged.push(m), 1_500))).toBe('UNAVAILABLE');
    expect(logged[0]).toMatch(/does not answer yet/);
    await store.close();
    expect(await codeOf(store.streamHead('case-1'))).toBe('UNAVAILABLE');

    // the KurrentDB spelling of the URL is understood by the v6 client too
    const kurrent = getEventStoreDbEventStore({ connectionString: url.replace('esdb://', 'kurrentdb://'), deadlineMs: 2_000 });
    expect(await codeOf(kurrent.streamHead('case-1'))).toBe('UNAVAILABLE');
    await kurrent.close();
  });
});
