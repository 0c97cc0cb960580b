import type pg from 'pg';
import type { EventStore } from '../../application/eventStore.ts';

/**
 * Waits until the store's gap-safe head (what a checkpoint covers) reaches the newest committed event:
 * a transaction still running anywhere in the cluster (another test file) holds the visible head back.
 */
export const untilVisible = async (store: EventStore, pool: pg.Pool, timeoutMs = 20_000): Promise<void> => {
  const newest = (await pool.query<{ p: string }>(`select tx_id::text || ':' || position as p from events order by tx_id desc, position desc limit 1`)).rows[0]?.p;
  if (!newest) return;
  const until = Date.now() + timeoutMs;
  for (;;) {
    const head = await store.headPosition();
    if (head && store.comparePositions(head, newest) >= 0) return;
    if (Date.now() > until) throw new Error(`the log's visible head stayed behind ${newest}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
