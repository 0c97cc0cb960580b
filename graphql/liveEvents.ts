import type { EventStore, RecordedEvent } from '../application/eventStore.ts';
import type { LiveEvents } from './context.ts';

/**
 * One tail of the global log per process, fanned out to every subscription in it. Each API node
 * tails PostgreSQL itself (LISTEN/NOTIFY wakes it), so N nodes behave as one without a broker in
 * the path of events; see docs/scaling.md for why Redis is not needed here.
 */
export const createLiveEvents = (store: EventStore, log: (msg: string) => void = () => {}): LiveEvents & { start(): Promise<void>; stop(): Promise<void> } => {
  const listeners = new Set<(events: readonly RecordedEvent[]) => void>();
  const ac = new AbortController();
  let loop: Promise<void> | undefined;

  const run = async () => {
    // live means from the head at start; a store that is down at boot is asked again, never a crash
    let after: string | null | undefined;
    while (!ac.signal.aborted) {
      try {
        if (after === undefined) after = await store.headPosition();
        for await (const page of store.subscribeToAll({ after, signal: ac.signal, batchSize: 1_000 })) {
          after = page[page.length - 1]!.position;
          for (const l of listeners) {
            try {
              l(page);
            } catch (err) {
              log(`live events: a listener failed: ${(err as Error).message}`);
            }
          }
        }
      } catch (err) {
        log(`live events: ${(err as Error).message}; resuming`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  };

  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async start() {
      loop ??= run();
    },
    async stop() {
      ac.abort();
      await loop;
    },
  };
};

/** An async iterator over the live events one subscription wants, bounded so a slow client cannot grow memory without end. */
export const liveIterator = <T>(
  live: LiveEvents,
  select: (events: readonly RecordedEvent[]) => Promise<T[]> | T[],
  maxQueued = 1_000,
): AsyncIterableIterator<T> => {
  const queue: T[] = [];
  let wake: (() => void) | null = null;
  let done = false;
  let chain = Promise.resolve();
  const unsubscribe = live.subscribe((events) => {
    chain = chain.then(async () => {
      const picked = await select(events);
      for (const item of picked) {
        if (queue.length >= maxQueued) queue.shift(); // drop the oldest for a client that does not keep up
        queue.push(item);
      }
      wake?.();
    }).catch(() => {});
  });
  const finish = () => {
    done = true;
    unsubscribe();
    wake?.();
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<T>> {
      while (!done && queue.length === 0) await new Promise<void>((r) => (wake = r));
      wake = null;
      if (queue.length > 0) return { value: queue.shift()!, done: false };
      return { value: undefined, done: true };
    },
    async return(): Promise<IteratorResult<T>> {
      finish();
      return { value: undefined, done: true };
    },
  };
};
