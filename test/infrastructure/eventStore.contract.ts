import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore, NewEvent, RecordedEvent } from '../../application/eventStore.ts';
import { eventHash } from '../../domain/integrity.ts';
import { codeOf } from '../support/codes.ts';

/**
 * The event-store contract, written once and run against every adapter. `connect()` gives a store
 * on the shared database; calling it twice gives two independent writers (like two processes).
 */
export interface ContractHarness {
  connect(): EventStore;
  cleanup(): Promise<void>;
  /** Makes one append fail inside the store (e.g. data the database refuses), or undefined to skip. */
  readonly poisonData?: unknown;
}

const ev = (type: string, data: unknown = {}, actorId = 'tester'): NewEvent => ({
  type,
  data,
  metadata: { actorId, actorRole: 'clerk', occurredAt: new Date().toISOString() },
});


const verifyChain = (events: readonly RecordedEvent[]) => {
  let prev: string | null = null;
  events.forEach((e, i) => {
    expect(e.revision).toBe(i);
    expect(e.previousHash).toBe(prev);
    expect(e.hash).toBe(eventHash(prev, e));
    prev = e.hash;
  });
};

export const runEventStoreContract = (name: string, makeHarness: () => Promise<ContractHarness | null>) => {
  describe(`event store contract: ${name}`, () => {
    let h: ContractHarness;
    let store: EventStore;
    beforeAll(async () => {
      const harness = await makeHarness();
      if (!harness) throw new Error('no harness');
      h = harness;
      store = h.connect();
    });
    afterAll(async () => {
      await h?.cleanup();
    });

    it('appends and reads a stream back, revisions from 0, hashes chained', async () => {
      const s = `case-${randomUUID()}`;
      const r1 = await store.appendToStream(s, [ev('A', { n: 1 }), ev('B', { n: 2 })], { expectedVersion: 'no_stream' });
      expect(r1.version).toBe(1);
      expect(r1.events.map((e) => e.revision)).toEqual([0, 1]);
      const r2 = await store.appendToStream(s, [ev('C', { nested: { z: 1, a: [1, 'x'] } })], { expectedVersion: 1 });
      expect(r2.version).toBe(2);
      const read = await store.readStream(s);
      expect(read.map((e) => e.type)).toEqual(['A', 'B', 'C']);
      expect(read[2]!.data).toEqual({ nested: { z: 1, a: [1, 'x'] } });
      expect(read[2]!.position).toBe(r2.position);
      verifyChain(read);
      expect(await store.streamHead(s)).toEqual({ version: 2, hash: read[2]!.hash });
      expect(store.comparePositions(r1.position, r2.position)).toBeLessThan(0);
    });

    it('reads a stream from a revision, with a limit, and backwards', async () => {
      const s = `case-${randomUUID()}`;
      await store.appendToStream(s, Array.from({ length: 10 }, (_, i) => ev('E', { i })));
      expect((await store.readStream(s, { fromRevision: 7 })).map((e) => e.revision)).toEqual([7, 8, 9]);
      expect((await store.readStream(s, { limit: 2 })).map((e) => e.revision)).toEqual([0, 1]);
      expect((await store.readStream(s, { direction: 'backwards', limit: 3 })).map((e) => e.revision)).toEqual([9, 8, 7]);
      expect(await store.readStream(`case-${randomUUID()}`)).toEqual([]);
      expect(await store.streamHead(`case-${randomUUID()}`)).toBeNull();
    });

    it('refuses a wrong expected version with CONCURRENCY_CONFLICT and appends nothing', async () => {
      const s = `case-${randomUUID()}`;
      await store.appendToStream(s, [ev('A')], { expectedVersion: 'no_stream' });
      expect(await codeOf(store.appendToStream(s, [ev('B')], { expectedVersion: 'no_stream' }))).toBe('CONCURRENCY_CONFLICT');
      expect(await codeOf(store.appendToStream(s, [ev('B')], { expectedVersion: 5 }))).toBe('CONCURRENCY_CONFLICT');
      expect(await codeOf(store.appendToStream(`case-${randomUUID()}`, [ev('B')], { expectedVersion: 0 }))).toBe('CONCURRENCY_CONFLICT');
      expect((await store.readStream(s)).length).toBe(1);
      const any = await store.appendToStream(s, [ev('C')], { expectedVersion: 'any' });
      expect(any.version).toBe(1);
    });

    it('refuses bad arguments with VALIDATION_FAILED', async () => {
      expect(await codeOf(store.appendToStream(`case-${randomUUID()}`, []))).toBe('VALIDATION_FAILED');
      expect(await codeOf(store.appendToStream('bad stream id', [ev('A')]))).toBe('VALIDATION_FAILED');
      expect(await codeOf(store.appendToStream(`case-${randomUUID()}`, [ev('A')], { expectedVersion: -7 }))).toBe('VALIDATION_FAILED');
      expect(await codeOf(store.readAll({ after: 'not-a-position' }))).toBe('VALIDATION_FAILED');
    });

    it('concurrency: 50 concurrent appends with the same expected version, exactly one wins', async () => {
      const s = `case-${randomUUID()}`;
      await store.appendToStream(s, [ev('Start')], { expectedVersion: 'no_stream' });
      const other = h.connect();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => codeOf((i % 2 ? other : store).appendToStream(s, [ev('Racer', { i })], { expectedVersion: 0 }))),
      );
      expect(results.filter((r) => r === 'OK')).toHaveLength(1);
      expect(results.filter((r) => r === 'CONCURRENCY_CONFLICT')).toHaveLength(49);
      const read = await store.readStream(s);
      expect(read).toHaveLength(2);
      verifyChain(read);
    });

    it('idempotency: a repeated commandId returns the first result and appends nothing', async () => {
      const s = `case-${randomUUID()}`;
      const commandId = randomUUID();
      const first = await store.appendToStream(s, [ev('A'), ev('B')], { expectedVersion: 'no_stream', commandId });
      expect(first.duplicate).toBe(false);
      // the same command again, even with the now-stale expected version: the first result
      const again = await store.appendToStream(s, [ev('A'), ev('B')], { expectedVersion: 'no_stream', commandId });
      expect(again).toMatchObject({ duplicate: true, version: first.version, position: first.position, events: [] });
      expect((await store.readStream(s)).length).toBe(2);
      expect(await store.findCommand(commandId)).toMatchObject({ streamId: s, fromRevision: 0, toRevision: 1, position: first.position });
      // the key belongs to that stream
      expect(await codeOf(store.appendToStream(`case-${randomUUID()}`, [ev('A')], { commandId }))).toBe('VALIDATION_FAILED');
    });

    it('idempotency: racing duplicates (two writers, 20 copies) append once', async () => {
      const s = `case-${randomUUID()}`;
      await store.appendToStream(s, [ev('Start')], { expectedVersion: 'no_stream' });
      const other = h.connect();
      const commandId = randomUUID();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? other : store).appendToStream(s, [ev('Once')], { expectedVersion: 0, commandId })),
      );
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(new Set(results.map((r) => `${r.version}@${r.position}`)).size).toBe(1);
      expect((await store.readStream(s)).map((e) => e.type)).toEqual(['Start', 'Once']);
    });

    it('a failed conflicting command can be retried with the same commandId', async () => {
      const s = `case-${randomUUID()}`;
      await store.appendToStream(s, [ev('A')]);
      const commandId = randomUUID();
      expect(await codeOf(store.appendToStream(s, [ev('B')], { expectedVersion: 3, commandId }))).toBe('CONCURRENCY_CONFLICT');
      const ok = await store.appendToStream(s, [ev('B')], { expectedVersion: 0, commandId });
      expect(ok).toMatchObject({ duplicate: false, version: 1 });
    });

    it('atomicity: a failing append leaves nothing, and its batch neighbours still commit', async () => {
      if (h.poisonData === undefined) return;
      const bad = `case-${randomUUID()}`;
      const good = Array.from({ length: 5 }, () => `case-${randomUUID()}`);
      const [badResult, ...goodResults] = await Promise.all([
        codeOf(store.appendToStream(bad, [ev('A'), ev('B', h.poisonData), ev('C')], { expectedVersion: 'no_stream', commandId: randomUUID() })),
        ...good.map((s) => codeOf(store.appendToStream(s, [ev('A')], { expectedVersion: 'no_stream' }))),
      ]);
      expect(badResult).not.toBe('OK');
      expect(goodResults).toEqual(good.map(() => 'OK'));
      expect(await store.readStream(bad)).toEqual([]);
      expect(await store.streamHead(bad)).toBeNull();
      // and the stream is usable afterwards
      expect((await store.appendToStream(bad, [ev('A')], { expectedVersion: 'no_stream' })).version).toBe(0);
    });

    it('hash chain continuity across appends from two writers', async () => {
      const s = `case-${randomUUID()}`;
      const other = h.connect();
      for (let i = 0; i < 10; i++) await (i % 2 ? other : store).appendToStream(s, [ev('E', { i }), ev('F', { i })]);
      const read = await store.readStream(s);
      expect(read).toHaveLength(20);
      verifyChain(read);
    });

    it('readAll pages in order, filters by type, and resumes from an exclusive cursor', async () => {
      const marker = `T${randomUUID().replace(/-/g, '')}`;
      const s = `case-${randomUUID()}`;
      await store.appendToStream(s, Array.from({ length: 25 }, (_, i) => ev(i % 5 === 0 ? `${marker}x` : marker, { i })));
      const seen: RecordedEvent[] = [];
      let after: string | null = null;
      for (;;) {
        const page = await store.readAll({ after, limit: 7, types: [marker, `${marker}x`] });
        seen.push(...page.events);
        after = page.lastPosition;
        if (!page.hasMore) break;
      }
      expect(seen.map((e) => (e.data as { i: number }).i)).toEqual(Array.from({ length: 25 }, (_, i) => i));
      const onlyX = await store.readAll({ types: [`${marker}x`], limit: 100 });
      expect(onlyX.events.map((e) => (e.data as { i: number }).i)).toEqual([0, 5, 10, 15, 20]);
      const tail = await store.readAll({ after, limit: 10, types: [marker] });
      expect(tail.events).toEqual([]);
      expect(tail.lastPosition).toBe(after);
    });

    it('global order: 16 concurrent writers, 20,000 events, a live subscriber sees each once, in order, no gaps', async () => {
      const start = (await store.readAll({ limit: 1 })).events.length === 0 ? null : await headPosition(store);
      const writers = [h.connect(), h.connect()];
      const ac = new AbortController();
      const live: RecordedEvent[] = [];
      const subscriber = h.connect();
      const target = 20_000;
      const tag = randomUUID();
      const done = (async () => {
        for await (const page of subscriber.subscribeToAll({ after: start, signal: ac.signal, batchSize: 2_000 })) {
          for (const e of page) if ((e.metadata as { tag?: string }).tag === tag) live.push(e);
          if (live.length >= target) ac.abort();
        }
      })();
      const written: string[] = [];
      await Promise.all(
        Array.from({ length: 16 }, async (_, w) => {
          const writer = writers[w % 2]!;
          let n = 0;
          for (let a = 0; n < target / 16; a++) {
            const size = Math.min(a % 3 === 0 ? 5 : 1, target / 16 - n);
            const events = Array.from({ length: size }, (_, k) => ({ ...ev('Load', { w, a, k }), metadata: { ...ev('x').metadata, tag } }));
            const r = await writer.appendToStream(`load-${tag}-${w}-${a % 50}`, events);
            written.push(...r.events.map((e) => e.id));
            n += size;
          }
        }),
      );
      const timeout = setTimeout(() => ac.abort(), 60_000);
      await done;
      clearTimeout(timeout);
      expect(written).toHaveLength(target);
      expect(live).toHaveLength(target);
      expect(new Set(live.map((e) => e.id)).size).toBe(target);
      expect(new Set(live.map((e) => e.id))).toEqual(new Set(written));
      for (let i = 1; i < live.length; i++) expect(store.comparePositions(live[i - 1]!.position, live[i]!.position)).toBeLessThan(0);
      // per stream, revisions arrive in order
      const lastRev = new Map<string, number>();
      for (const e of live) {
        expect(e.revision).toBe((lastRev.get(e.streamId) ?? -1) + 1);
        lastRev.set(e.streamId, e.revision);
      }
      // a full read afterwards matches the live one event for event
      const replay: RecordedEvent[] = [];
      let after = start;
      for (;;) {
        const page = await store.readAll({ after, limit: 5_000 });
        replay.push(...page.events.filter((e) => (e.metadata as { tag?: string }).tag === tag));
        after = page.lastPosition;
        if (!page.hasMore) break;
      }
      expect(replay.map((e) => e.id)).toEqual(live.map((e) => e.id));
    });

    it('subscribeToAll catches up from a position, then goes live', async () => {
      const s = `case-${randomUUID()}`;
      const first = await store.appendToStream(s, [ev('A'), ev('B')]);
      const ac = new AbortController();
      const got: string[] = [];
      const sub = (async () => {
        for await (const page of store.subscribeToAll({ after: first.events[0]!.position, signal: ac.signal })) {
          for (const e of page) if (e.streamId === s) got.push(e.type);
          if (got.length >= 2) ac.abort();
        }
      })();
      await new Promise((r) => setTimeout(r, 50));
      await store.appendToStream(s, [ev('C')]);
      const timeout = setTimeout(() => ac.abort(), 10_000);
      await sub;
      clearTimeout(timeout);
      expect(got).toEqual(['B', 'C']);
    });
  });
};

const headPosition = async (store: EventStore) => {
  let after: string | null = null;
  for (;;) {
    const page = await store.readAll({ after, limit: 10_000 });
    after = page.lastPosition;
    if (!page.hasMore) return after;
  }
};
