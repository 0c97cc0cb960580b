import pg from 'pg';
import type { EventStore } from '../../application/eventStore.ts';
import type { Target } from '../../domain/exchange/targets.ts';
import { createOutboxTable, OUTBOX_TABLE } from '../../projections/exchange/outboxProjection.ts';
import { lockKey } from '../../projections/runner.ts';
import { createPool } from '../postgres/pool.ts';
import { buildPayloads, plainOnly, type OpenApplicant } from './payloads.ts';
import { errorText, type DeliveryOutcome, type OutboxRow, type TargetAdapter } from './types.ts';

/**
 * The exchange dispatcher: one leader across nodes (a session advisory lock, like the projection
 * runner), one loop per target under it. Each round takes a batch of due outbox rows — only rows
 * whose earlier rows of the same case are delivered or in the same batch, so each case's records
 * reach a target in order — builds the payloads, delivers them with their idempotency keys and marks
 * the outcome: delivered, or retried with exponential backoff (with jitter), or dead after
 * `maxAttempts`. It runs on its own small connection pool, apart from the command path: a target
 * that is down makes rows wait, never a command.
 */
export interface DispatcherOptions {
  readonly connectionString: string;
  readonly schema?: string;
  readonly store: EventStore;
  readonly adapters: readonly TargetAdapter[];
  readonly openApplicant?: OpenApplicant;
  readonly batchSize?: number;
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** wait when nothing is due (ms) */
  readonly idleMs?: number;
  readonly leaderRetryMs?: number;
  readonly log?: (msg: string) => void;
  /** called after each marked batch (metrics, tests, benchmarks) */
  readonly onBatch?: (target: Target, outcomes: readonly DeliveryOutcome[]) => void;
}

export interface Dispatcher {
  start(): void;
  stop(): Promise<void>;
  /** true while this node leads */
  isLeader(): boolean;
  /** The pool it runs on (tests close it to simulate a crash). */
  readonly pool: pg.Pool;
}

const LOCK_CLASS = 0x6763 + 3;

export const retryDelayMs = (attempts: number, baseMs: number, maxMs: number, random = Math.random): number => {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp * (0.8 + 0.4 * random()));
};

export const createDispatcher = (options: DispatcherOptions): Dispatcher => {
  const schema = options.schema ?? 'public';
  const log = options.log ?? (() => {});
  const batchSize = options.batchSize ?? 500;
  const maxAttempts = options.maxAttempts ?? 12;
  const retryBaseMs = options.retryBaseMs ?? 2_000;
  const retryMaxMs = options.retryMaxMs ?? 3_600_000;
  const idleMs = options.idleMs ?? 200;
  const openApplicant = options.openApplicant ?? plainOnly;
  const pool = createPool({ connectionString: options.connectionString, schema, max: options.adapters.length + 2, applicationName: 'govcase-exchange' });
  const abort = new AbortController();
  let loop: Promise<void> | undefined;
  let leading = false;

  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
      signal.addEventListener('abort', done, { once: true });
    });

  const dueRows = async (target: Target): Promise<OutboxRow[]> => {
    const res = await pool.query<{
      id: string; idempotency_key: string; target: Target; case_id: string; revision: number; event_type: string; data_set: OutboxRow['dataSet']; attempts: number;
    }>(
      `select o.id, o.idempotency_key, o.target, o.case_id, o.revision, o.event_type, o.data_set, o.attempts
         from ${OUTBOX_TABLE} o
        where o.target = $1 and o.status = 'pending' and o.next_attempt_at <= now()
          and not exists (
            select 1 from ${OUTBOX_TABLE} p
             where p.target = o.target and p.case_id = o.case_id and p.id < o.id and p.status <> 'delivered'
               and (p.status = 'dead' or p.next_attempt_at > now()))
        order by o.id
        limit $2`,
      [target, batchSize],
    );
    return res.rows.map((r) => ({
      id: String(r.id), idempotencyKey: r.idempotency_key, target: r.target, caseId: r.case_id, revision: r.revision,
      eventType: r.event_type, dataSet: r.data_set, attempts: r.attempts,
    }));
  };

  const mark = async (rows: readonly OutboxRow[], outcomes: readonly DeliveryOutcome[], erased: ReadonlySet<string>) => {
    const attemptsOf = new Map(rows.map((r) => [r.id, r.attempts] as const));
    const delivered = outcomes.filter((o) => o.status === 'delivered').map((o) => ({ id: o.id, duplicate: o.duplicate, erased: erased.has(o.id) }));
    const failed = outcomes.filter((o) => o.status === 'failed').map((o) => {
      const attempts = (attemptsOf.get(o.id) ?? 0) + 1;
      return { id: o.id, error: o.error, dead: attempts >= maxAttempts, delay_ms: retryDelayMs(attempts, retryBaseMs, retryMaxMs) };
    });
    if (delivered.length > 0)
      await pool.query(
        `update ${OUTBOX_TABLE} o set status = 'delivered', delivered_at = now(), attempts = o.attempts + 1, last_error = null,
                duplicate = d.duplicate, personal_data_erased = d.erased
           from jsonb_to_recordset($1::jsonb) as d(id bigint, duplicate boolean, erased boolean)
          where o.id = d.id and o.status = 'pending'`,
        [JSON.stringify(delivered)],
      );
    if (failed.length > 0)
      await pool.query(
        `update ${OUTBOX_TABLE} o set attempts = o.attempts + 1, last_error = d.error,
                status = case when d.dead then 'dead' else 'pending' end,
                next_attempt_at = now() + make_interval(secs => d.delay_ms / 1000.0)
           from jsonb_to_recordset($1::jsonb) as d(id bigint, error text, dead boolean, delay_ms bigint)
          where o.id = d.id and o.status = 'pending'`,
        [JSON.stringify(failed)],
      );
    const dead = failed.filter((f) => f.dead).length;
    if (dead > 0) log(`exchange: ${dead} record(s) moved to the dead letters after ${maxAttempts} attempts`);
  };

  /** One round for one target; returns how many rows it handled. */
  const round = async (adapter: TargetAdapter): Promise<number> => {
    const rows = await dueRows(adapter.target);
    if (rows.length === 0) return 0;
    const built = await buildPayloads(options.store, openApplicant, rows);
    // a row whose payload failed holds back the later rows of its case
    const blocked = new Map<string, string>();
    for (const f of built.failed) {
      const row = rows.find((r) => r.id === f.id)!;
      if (!blocked.has(row.caseId)) blocked.set(row.caseId, row.id);
    }
    const go = built.deliveries.filter((d) => !blocked.has(d.row.caseId) || BigInt(d.row.id) < BigInt(blocked.get(d.row.caseId)!));
    const delivered = await adapter.deliver(go);
    const outcomes: DeliveryOutcome[] = [...delivered, ...built.failed.map((f): DeliveryOutcome => ({ id: f.id, status: 'failed', error: f.error }))];
    await mark(rows, outcomes, built.erased);
    options.onBatch?.(adapter.target, outcomes);
    return rows.length;
  };

  const runTarget = async (adapter: TargetAdapter, signal: AbortSignal) => {
    let backoff = 500;
    while (!signal.aborted) {
      try {
        const n = await round(adapter);
        backoff = 500;
        if (n === 0) await sleep(idleMs, signal);
      } catch (err) {
        if (signal.aborted) break;
        log(`exchange ${adapter.target}: round failed: ${errorText(err)}; retrying in ${backoff} ms`);
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  };

  const becomeLeader = async (): Promise<pg.Client | null> => {
    const client = new pg.Client({ connectionString: options.connectionString, application_name: 'govcase-exchange-leader', connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
      client.on('error', () => {});
      const res = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [LOCK_CLASS, lockKey(schema, 'exchange-dispatcher')]);
      if (res.rows[0]?.ok) return client;
      await client.end();
      return null;
    } catch {
      await client.end().catch(() => {});
      return null;
    }
  };

  const run = async () => {
    const leaderRetryMs = options.leaderRetryMs ?? 2_000;
    while (!abort.signal.aborted) {
      const leader = await becomeLeader();
      if (!leader) {
        await sleep(leaderRetryMs, abort.signal);
        continue;
      }
      const lost = new AbortController();
      leader.once('error', () => lost.abort());
      leader.once('end', () => lost.abort());
      const signal = AbortSignal.any([abort.signal, lost.signal]);
      leading = true;
      try {
        await createOutboxTable(pool).catch(async (err: unknown) => {
          // two creators at once (the projection runner's, this): fine if the table is there now
          const r = await pool.query<{ t: string | null }>('select to_regclass($1)::text as t', [OUTBOX_TABLE]);
          if (!r.rows[0]?.t) throw err;
        });
        await Promise.all(options.adapters.map((a) => runTarget(a, signal)));
      } catch (err) {
        log(`exchange dispatcher: ${errorText(err)}`);
        await sleep(1_000, abort.signal);
      } finally {
        leading = false;
        await leader.end().catch(() => {});
      }
    }
  };

  return {
    pool,
    isLeader: () => leading,
    start() {
      loop ??= run();
    },
    async stop() {
      abort.abort();
      await loop;
      for (const a of options.adapters) await a.close();
      await pool.end().catch(() => {});
    },
  };
};
