import pg from 'pg';

/**
 * One LISTEN connection per store: wakes every waiting subscriber when a batch commits. Reconnects
 * with backoff; after a reconnect it wakes everyone (a notification may have been missed), and the
 * subscribers' slow poll covers the time it is down.
 */
export interface Notifier {
  /** Wakes this process's waiters now (a commit made here needs no round trip through PostgreSQL). */
  wakeLocal(): void;
  /** The backend pid of the LISTEN connection, null while it is not connected. */
  listenerPid(): number | null;
  /** How many wake-ups there have been: taken before a read, and given to `wait` after it. */
  wakes(): number;
  /**
   * Resolves on the next notification, after `timeoutMs`, or when `signal` aborts; at once
   * ('notified') when there has been a wake-up since `since` (a count from `wakes()`), so one that came
   * while the caller was reading is never slept through.
   */
  wait(timeoutMs: number, signal?: AbortSignal, since?: number): Promise<'notified' | 'timeout' | 'aborted'>;
  close(): Promise<void>;
}

/**
 * `ignore`: a payload this process sends itself after it has already woken its own waiters
 * (`wakeLocal`); hearing it back from PostgreSQL would only wake them again for nothing.
 */
export const createNotifier = (
  connectionString: string, channel: string, onPayload?: (payload: string) => void, options: { readonly ignore?: string } = {},
): Notifier => {
  const waiters = new Set<() => void>();
  let client: pg.Client | null = null;
  let closed = false;
  let starting: Promise<void> | null = null;
  let backoff = 100;

  let wakes = 0;
  const wakeAll = () => {
    wakes++;
    for (const w of [...waiters]) w();
  };

  const connect = async (): Promise<void> => {
    while (!closed) {
      const c = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000, application_name: 'govcase-listen' });
      try {
        await c.connect();
        c.on('notification', (n) => {
          if (options.ignore !== undefined && n.payload === options.ignore) return;
          if (onPayload && n.payload) onPayload(n.payload);
          wakeAll();
        });
        // a dropped connection ('error', or an 'end' the server initiated): reconnect, and wake
        // everyone on reconnecting (a notification may have been missed while it was down)
        let lost = false;
        const onLost = () => {
          if (lost) return;
          lost = true;
          if (client === c) client = null;
          c.end().catch(() => {});
          if (!closed) setTimeout(() => void ensure(), backoff);
        };
        c.on('error', onLost);
        c.on('end', onLost);
        await c.query(`listen "${channel}"`);
        if (closed) {
          await c.end();
          return;
        }
        client = c;
        backoff = 100;
        wakeAll();
        return;
      } catch {
        await c.end().catch(() => {});
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  };

  const ensure = () => {
    if (closed || client || starting) return starting ?? Promise.resolve();
    starting = connect().finally(() => {
      starting = null;
    });
    return starting;
  };

  return {
    wakeLocal: wakeAll,
    wakes: () => wakes,
    listenerPid: () => (client as (pg.Client & { processID?: number }) | null)?.processID ?? null,
    wait(timeoutMs, signal, since) {
      void ensure();
      if (signal?.aborted) return Promise.resolve('aborted');
      if (since !== undefined && since !== wakes) return Promise.resolve('notified');
      return new Promise((resolve) => {
        const done = (why: 'notified' | 'timeout' | 'aborted') => {
          waiters.delete(onNotify);
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(why);
        };
        const onNotify = () => done('notified');
        const onAbort = () => done('aborted');
        const timer = setTimeout(() => done('timeout'), timeoutMs);
        waiters.add(onNotify);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    async close() {
      closed = true;
      wakeAll();
      const c = client;
      client = null;
      await starting?.catch(() => {});
      await c?.end().catch(() => {});
    },
  };
};
