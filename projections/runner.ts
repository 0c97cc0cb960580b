import { EventEmitter } from 'node:events';
import type pg from 'pg';
import type { EventStore, RecordedEvent } from '../application/eventStore.ts';
import { createNotifier, type Notifier } from '../infrastructure/postgres/notifier.ts';
import { inTransaction, isUnavailableError } from '../infrastructure/postgres/pool.ts';
import { tableNames, type Projection } from './projection.ts';

/**
 * Runs projections from the global log, in commit order, in batches. Each batch's read-model change
 * and checkpoint commit in one transaction, under a transaction-level advisory lock per projection
 * and a check that the checkpoint is still where this runner left it — so a crash, a second runner or
 * a rebuild's switch-over can never skip or double-apply an event. One leader per projection across
 * processes (a session advisory lock); the others stand by and take over when it goes.
 */
export interface ProjectionRunnerOptions {
  readonly pool: pg.Pool;
  readonly store: EventStore;
  readonly projections: readonly Projection[];
  readonly connectionString: string;
  readonly schema?: string;
  readonly batchSize?: number;
  readonly log?: (msg: string) => void;
  /** How often a standby tries to become leader (ms). */
  readonly leaderRetryMs?: number;
}

export interface ProjectionStatus {
  readonly name: string;
  readonly position: string | null;
  /** events in the log after the checkpoint (capped at 1,000,000) */
  readonly lag: number;
  /** ms between now and the oldest event not yet projected; 0 when caught up */
  readonly lagMs: number;
  readonly status: string;
}

export interface ProjectionRunner {
  start(): void;
  stop(): Promise<void>;
  status(): Promise<ProjectionStatus[]>;
  /** Resolves true once `check()` holds (re-checked after each committed batch of `name`), false after `timeoutMs`. */
  waitFor(name: string, check: () => Promise<boolean>, timeoutMs: number): Promise<boolean>;
  /** Fires after every committed batch of this process's runners. */
  readonly committed: EventEmitter<{ batch: [name: string, events: readonly RecordedEvent[], position: string] }>;
}

const LOCK_CLASS = 0x6763; // 'gc'
/** How long the checkpoint of a projection may stay behind events it had nothing to do with. */
const SKIP_WINDOW_MS = 100;

export const lockKey = (schema: string, name: string): number => {
  let h = 0x811c9dc5;
  for (const ch of `${schema}/${name}`) h = Math.imul(h ^ ch.codePointAt(0)!, 0x01000193);
  return h | 0;
};

/**
 * The PostgreSQL store's `<txid>:<position>` split for the checkpoint's numeric columns (used only by
 * PostgreSQL lag queries); another store's cursor (EventStoreDB's `esdb:<commit>/<prepare>`) is kept
 * as text in `position` alone, its numeric columns left at zero.
 */
export const parsePosition = (p: string | null): { tx: string; pos: string } => {
  const m = p ? /^(\d{1,20}):(\d{1,20})$/.exec(p) : null;
  return m ? { tx: m[1]!, pos: m[2]! } : { tx: '0', pos: '0' };
};

export const ensureCheckpoint = async (db: pg.ClientBase | pg.Pool, name: string) => {
  await db.query('insert into projection_checkpoints (name) values ($1) on conflict do nothing', [name]);
  const res = await db.query<{ position: string | null; events: string }>('select position, events from projection_checkpoints where name = $1', [name]);
  return { position: res.rows[0]?.position ?? null, events: Number(res.rows[0]?.events ?? 0) };
};

/**
 * Applies one page in one transaction. Returns false (and changes nothing) when the checkpoint is no
 * longer `expected`: someone else moved it (a switch-over, another runner).
 *
 * Three round trips when the projection has something to do (one for `begin`, the lock and the
 * checkpoint; the projection's own; one for the new checkpoint, its notification and `commit`), two
 * when not. The statements grouped in one simple query carry no client data: the lock key is a
 * number, the names and positions are quoted with the driver's `escapeLiteral`.
 */
export const applyPage = async (
  pool: pg.Pool,
  schema: string,
  projection: Projection,
  checkpointName: string,
  suffix: string,
  expected: string | null,
  page: readonly RecordedEvent[],
): Promise<boolean> => {
  const last = page[page.length - 1];
  if (!last) return true;
  const wanted = projection.eventTypes ? page.filter((e) => projection.eventTypes!.includes(e.type)) : page;
  return commitPage(pool, schema, projection, checkpointName, suffix, expected, wanted, last.position, page.length);
};

/** `applyPage` for events already filtered: `wanted` (maybe none) brings the checkpoint to `to`, `count` events on. */
const commitPage = async (
  pool: pg.Pool,
  schema: string,
  projection: Projection,
  checkpointName: string,
  suffix: string,
  expected: string | null,
  wanted: readonly RecordedEvent[],
  to: string,
  count: number,
): Promise<boolean> => {
  const client = await pool.connect();
  const lit = (v: string) => client.escapeLiteral(v);
  try {
    const opened = (await client.query(
      `begin; select pg_advisory_xact_lock(${LOCK_CLASS}, ${lockKey(schema, projection.name)});
       select position from projection_checkpoints where name = ${lit(checkpointName)} for update`,
    )) as unknown as pg.QueryResult<{ position: string | null }>[];
    if ((opened[2]?.rows[0]?.position ?? null) !== expected) {
      await client.query('rollback');
      return false;
    }
    if (wanted.length > 0) await projection.apply(client, wanted, tableNames(suffix));
    const { tx, pos } = parsePosition(to);
    await client.query(
      `update projection_checkpoints set position = ${lit(to)}, tx_id = ${lit(tx)}::xid8, pos = ${lit(pos)}::bigint,
              events = events + ${Math.trunc(count)}, updated_at = now() where name = ${lit(checkpointName)};
       select pg_notify(${lit(`govcase_proj_${schema}`)}, ${lit(`${checkpointName} ${to}`)});
       commit`,
    );
    return true;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
};

/** Creates a projection's tables (if missing) under its lock, so two nodes starting at once do not race. */
export const createTablesOnce = (pool: pg.Pool, schema: string, projection: Projection, suffix: string) =>
  inTransaction(pool, async (client) => {
    await client.query('select pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, lockKey(schema, projection.name)]);
    await projection.createTables(client, tableNames(suffix));
  });

export const createProjectionRunner = (options: ProjectionRunnerOptions): ProjectionRunner => {
  const { pool, store } = options;
  const schema = options.schema ?? 'public';
  const log = options.log ?? (() => {});
  const batchSize = options.batchSize ?? 1_000;
  const leaderRetryMs = options.leaderRetryMs ?? 2_000;
  const committed = new EventEmitter<{ batch: [string, readonly RecordedEvent[], string] }>();
  const signals = new EventEmitter<{ moved: [string] }>();
  signals.setMaxListeners(0);
  committed.setMaxListeners(0);
  const notifier: Notifier = createNotifier(options.connectionString, `govcase_proj_${schema}`, (payload) => {
    signals.emit('moved', payload.split(' ')[0] ?? '');
  });
  const state = new Map<string, string>(options.projections.map((p) => [p.name, 'starting']));
  const abort = new AbortController();
  const loops: Promise<void>[] = [];
  const leaders: pg.Client[] = [];

  // the abort listener goes with its timer: one left behind per sleep would pile up on the runner's signal
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const onAbort = () => { clearTimeout(t); resolve(); };
      const t = setTimeout(() => { abort.signal.removeEventListener('abort', onAbort); resolve(); }, ms);
      abort.signal.addEventListener('abort', onAbort, { once: true });
    });

  const becomeLeader = async (projection: Projection): Promise<pg.Client | null> => {
    const { Client } = (await import('pg')).default;
    const client = new Client({ connectionString: options.connectionString, application_name: `govcase-projection-${projection.name}`, connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
      client.on('error', () => {});
      const res = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [LOCK_CLASS + 1, lockKey(schema, projection.name)]);
      if (res.rows[0]?.ok) return client;
      await client.end();
      return null;
    } catch {
      await client.end().catch(() => {});
      return null;
    }
  };

  const run = async (projection: Projection) => {
    let backoff = 500;
    while (!abort.signal.aborted) {
      const leader = await becomeLeader(projection);
      if (!leader) {
        state.set(projection.name, 'standby');
        await sleep(leaderRetryMs);
        continue;
      }
      leaders.push(leader);
      const lost = new AbortController();
      leader.once('error', () => lost.abort());
      leader.once('end', () => lost.abort());
      const signal = AbortSignal.any([abort.signal, lost.signal]);
      try {
        await createTablesOnce(pool, schema, projection, '');
        while (!signal.aborted) {
          const { position } = await ensureCheckpoint(pool, projection.name);
          state.set(projection.name, 'running');
          // `cursor`: the last event handled; `stored`: the checkpoint's row. They differ only after pages
          // that held nothing for this projection: those commit nothing at once, but at most
          // SKIP_WINDOW_MS later (by the next page, or by the flush timer when the log goes quiet),
          // with the count of events they held. Replaying skipped events after a crash changes nothing.
          let cursor = position;
          let stored = position;
          let skipped = 0;
          let storedAt = performance.now();
          let moved = false;
          let flushTimer: NodeJS.Timeout | null = null;
          let serial: Promise<unknown> = Promise.resolve();
          // commits run one at a time, and read what they commit when they run: the checkpoint moves
          // from `stored` to `page.to` (a flush: to `cursor`), counting the skipped events and the page's
          const commit = (wanted: readonly RecordedEvent[], page?: { readonly to: string; readonly count: number }) => {
            const run = serial.then(async () => {
              const to = page?.to ?? cursor;
              if (to === stored || to === null) return true;
              // pages skipped while this commit is in flight come after `to`: they stay counted for the next
              const counted = skipped;
              const ok = await commitPage(pool, schema, projection, projection.name, '', stored, wanted, to, counted + (page?.count ?? 0));
              if (ok) { stored = to; skipped -= counted; storedAt = performance.now(); }
              return ok;
            });
            serial = run.catch(() => {});
            return run;
          };
          const flushSkipped = () => {
            flushTimer = null;
            if (signal.aborted) return;
            // a failure or a moved checkpoint is found again by the loop's next commit
            commit([]).then((ok) => { if (ok) signals.emit('moved', projection.name); }, () => {});
          };
          try {
            for await (const page of store.subscribeToAll({ after: cursor, batchSize, signal })) {
              const last = page[page.length - 1]!.position;
              const wanted = projection.eventTypes ? page.filter((e) => projection.eventTypes!.includes(e.type)) : page;
              if (wanted.length === 0 && performance.now() - storedAt < SKIP_WINDOW_MS) {
                cursor = last;
                skipped += page.length;
                flushTimer ??= setTimeout(flushSkipped, SKIP_WINDOW_MS);
              } else {
                if (!(await commit(wanted, { to: last, count: page.length }))) {
                  moved = true;
                  break;
                }
                cursor = last;
              }
              backoff = 500;
              committed.emit('batch', projection.name, page, cursor!);
              signals.emit('moved', projection.name);
            }
          } finally {
            if (flushTimer) clearTimeout(flushTimer);
            // on the way out (a stop, a lost leadership, a failure), what was skipped is recorded if it can be
            if (!moved) await commit([]).catch(() => {});
            await serial;
          }
          if (moved) log(`projection ${projection.name}: checkpoint moved elsewhere (switch-over); continuing from it`);
        }
      } catch (err) {
        state.set(projection.name, `error: ${(err as Error).message}`);
        log(`projection ${projection.name} failed: ${(err as Error).message}; retrying in ${backoff} ms`);
        await sleep(backoff);
        // the database away: keep trying every 2 s at most, so the read side is back soon after it is
        backoff = Math.min(backoff * 2, isUnavailableError(err) ? 2_000 : 30_000);
      } finally {
        leaders.splice(leaders.indexOf(leader), 1);
        await leader.end().catch(() => {});
      }
    }
    state.set(projection.name, 'stopped');
  };

  return {
    committed,
    start() {
      for (const p of options.projections) loops.push(run(p));
    },
    async stop() {
      abort.abort();
      await Promise.allSettled(loops);
      await notifier.close();
    },
    async status() {
      const res = await pool.query<{ name: string; position: string | null; tx_id: string; pos: string }>(
        'select name, position, tx_id::text, pos from projection_checkpoints where name = any($1)',
        [options.projections.map((p) => p.name)],
      );
      const byName = new Map(res.rows.map((r) => [r.name, r] as const));
      return Promise.all(
        options.projections.map(async (p): Promise<ProjectionStatus> => {
          const row = byName.get(p.name);
          if (store.name !== 'postgres') {
            // another store: the lag is counted through the port, up to 1,000 events (cheap to scrape)
            const page = await store.readAll({ after: row?.position ?? null, limit: 1_000 });
            const oldest = page.events[0]?.recordedAt;
            return {
              name: p.name, position: row?.position ?? null, lag: page.events.length,
              lagMs: oldest ? Math.max(0, Date.now() - Date.parse(oldest)) : 0, status: state.get(p.name) ?? 'unknown',
            };
          }
          const lag = await pool.query<{ n: string; oldest: Date | null }>(
            `select count(*) as n, min(recorded_at) as oldest from (
               select recorded_at from events where (tx_id, position) > ($1::xid8, $2::bigint) order by tx_id, position limit 1000000) x`,
            [row?.tx_id ?? '0', row?.pos ?? '0'],
          );
          const oldest = lag.rows[0]?.oldest;
          return {
            name: p.name,
            position: row?.position ?? null,
            lag: Number(lag.rows[0]?.n ?? 0),
            lagMs: oldest ? Math.max(0, Date.now() - oldest.getTime()) : 0,
            status: state.get(p.name) ?? 'unknown',
          };
        }),
      );
    },
    async waitFor(name, check, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (await check()) return true;
        const left = deadline - Date.now();
        if (left <= 0) return false;
        await new Promise<void>((resolve) => {
          const done = () => { clearTimeout(t); signals.off('moved', onMoved); resolve(); };
          const onMoved = (n: string) => { if (n === name) done(); };
          const t = setTimeout(done, Math.min(left, 250));
          signals.on('moved', onMoved);
          // make sure the cross-process listener is connected while anyone waits
          void notifier.wait(Math.min(left, 250));
        });
      }
    },
  };
};
