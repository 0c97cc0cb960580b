import { performance } from 'node:perf_hooks';
import type pg from 'pg';

/**
 * Telling other processes that a batch committed: one `pg_notify` outside the append transaction
 * (inside it, NOTIFY takes a database-wide lock until the commit has flushed), coalesced: at most one
 * in flight and at most one per `intervalMs` (batches that commit meanwhile share the next one). Each
 * NOTIFY is a round trip and a wake-up of every listening backend; under load there is a batch every
 * millisecond or so. A crash between commit and NOTIFY delays other processes by their idle poll.
 *
 * Nobody else listening (one node, the usual case): no NOTIFY at all. Whether another backend listens
 * on the channel is asked at most once a second, while appends happen; until the first answer, and
 * whenever the question fails, the NOTIFY is sent. A node that starts listening is heard of within a
 * second; its subscribers meanwhile find new events by their idle poll.
 */
export const createCommitNotices = (options: {
  readonly pool: pg.Pool;
  readonly schema: string;
  /** this store's payload: its own listener skips it (its subscribers were woken directly) */
  readonly payload: string;
  /** the pid of this store's own LISTEN connection, which is not "someone else listening" */
  readonly listenerPid: () => number | null;
  readonly intervalMs: number;
}) => {
  const { pool, schema, payload, intervalMs } = options;
  const channel = `govcase_${schema}`;
  let closed = false;
  let notifying: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let again = false;
  let lastNotify = -Infinity;

  const send = () => {
    lastNotify = performance.now();
    again = false;
    notifying = pool
      .query({ name: `govcase_notify_${schema}`, text: 'select pg_notify($1, $2)', values: [channel, payload] })
      .then(() => {}, () => {})
      .finally(() => {
        notifying = null;
        if (again && !closed) request();
      });
  };

  const listenQuery = `listen "${channel}"`;
  let othersListen = true;
  let askedAt = -Infinity;
  const askWhoListens = () => {
    askedAt = performance.now();
    pool
      .query<{ others: boolean }>({
        name: `govcase_listeners_${schema}`,
        text: `select exists (select 1 from pg_stat_activity
                 where datname = current_database() and pid <> $1 and query = $2 and backend_type = 'client backend')
                 or current_setting('track_activities') <> 'on' as others`,
        values: [options.listenerPid() ?? 0, listenQuery],
      })
      .then((r) => { othersListen = r.rows[0]?.others !== false; }, () => { othersListen = true; });
  };

  const request = () => {
    if (performance.now() - askedAt > 1_000) askWhoListens();
    if (!othersListen) return;
    if (notifying || timer) {
      again = true;
      return;
    }
    const wait = lastNotify + intervalMs - performance.now();
    if (wait <= 0) return send();
    timer = setTimeout(() => {
      timer = null;
      if (!closed) send();
    }, wait);
  };

  return {
    /** A batch committed: other processes will hear of it. */
    request,
    /** No more requests; the last commits' NOTIFY goes out now rather than never. */
    async close() {
      closed = true;
      if (timer) {
        clearTimeout(timer);
        timer = null;
        send();
      }
      await notifying;
    },
  };
};
