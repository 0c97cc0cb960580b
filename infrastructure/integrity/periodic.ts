import type pg from 'pg';
import type { Checkpointer } from '../../application/integrity.ts';

/**
 * Periodic integrity checkpoints: every `intervalMs`, when some stream moved, the leader (one
 * process across nodes: a session advisory lock held on a pooled connection) signs a checkpoint.
 */
// one lock per schema (advisory locks are database-wide; several govcase schemas may share a database)
const LOCK_SQL = `hashtext(current_schema() || '/govcase/integrity-checkpoints')`;

export interface PeriodicCheckpoints {
  start(): void;
  stop(): Promise<void>;
}

export const createPeriodicCheckpoints = (options: {
  readonly pool: pg.Pool;
  readonly checkpointer: Checkpointer;
  readonly intervalMs: number;
  readonly log?: (msg: string) => void;
}): PeriodicCheckpoints => {
  const { pool, checkpointer, intervalMs } = options;
  const log = options.log ?? (() => {});
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let leader: pg.PoolClient | undefined;
  let stopped = true;
  let lastError = '';

  const leadAndCheckpoint = async () => {
    if (leader) {
      try {
        await leader.query('select 1');
      } catch (err) {
        leader.release(err as Error);
        leader = undefined;
      }
    }
    if (!leader) {
      const c = await pool.connect();
      const got = (await c.query<{ ok: boolean }>(`select pg_try_advisory_lock(${LOCK_SQL}) as ok`)).rows[0]?.ok;
      if (!got) {
        c.release();
        return;
      }
      leader = c;
    }
    const cp = await checkpointer.create({ onlyIfMoved: true });
    if (cp && cp.sequence % 100 === 1) log(`integrity checkpoint ${cp.sequence} at ${cp.position || '(empty log)'} (${cp.streams} streams; logged every 100th)`);
    lastError = '';
  };

  const onError = (err: unknown) => {
    const msg = (err as Error).message;
    if (msg !== lastError) log(`integrity checkpoints: ${msg}`);
    lastError = msg;
  };

  // a checkpoint costs time in proportion to the number of streams (the Merkle root covers every head):
  // the next one waits at least 20× as long as the last took, so checkpoints never take more than ~5 %
  // of the process, however large the log grows
  let lastTookMs = 0;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      const began = Date.now();
      running = leadAndCheckpoint().catch(onError).finally(() => {
        lastTookMs = Date.now() - began;
        schedule();
      });
    }, Math.max(intervalMs, 20 * lastTookMs));
    timer.unref?.();
  };

  return {
    start() {
      if (!stopped || intervalMs <= 0) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      if (leader) {
        await leader.query(`select pg_advisory_unlock(${LOCK_SQL})`).catch(() => {});
        leader.release();
        leader = undefined;
      }
    },
  };
};
