import type { Histogram } from 'prom-client';
import type { EventStore } from '../application/eventStore.ts';

/** The same store, with each append's latency observed (outcome: ok or the error code). */
export const instrumentAppends = (store: EventStore, histogram: Histogram<'outcome'>): EventStore => ({
  ...store,
  async appendToStream(streamId, events, options) {
    const end = histogram.startTimer();
    try {
      const r = await store.appendToStream(streamId, events, options);
      end({ outcome: 'ok' });
      return r;
    } catch (err) {
      end({ outcome: (err as { code?: string }).code ?? 'error' });
      throw err;
    }
  },
});
