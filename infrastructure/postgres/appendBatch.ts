import type pg from 'pg';
import type { AdapterAppendResult, PreparedEvent, RecordedEvent } from '../../application/eventStore.ts';
import type { BatchItem } from './groupCommit.ts';
import { formatPosition, isoTimes, rawTimestamps } from './eventRows.ts';
import { isTransientError, isUnavailableError, toGovcaseError } from './pool.ts';

/**
 * One group-commit batch → one statement: `govcase_append_batch(...)` (migration 008), the appends
 * as small arrays, their events as ONE jsonb document (JSON.stringify once, parsed once by the
 * server), each append with its own version check and idempotency key, one outcome per append.
 */
export interface AppendInput {
  readonly events: readonly PreparedEvent[];
  readonly expectedVersion: number;
}

export type AppendItem = BatchItem<AppendInput, AdapterAppendResult>;

/** One event in the batch document: short keys, since every batch carries them all. */
interface BatchEvent {
  readonly a: number;
  readonly r: number;
  readonly i: string;
  readonly t: string;
  readonly d: unknown;
  readonly m: unknown;
  readonly h: string;
  readonly p: string | null;
}

interface AppendRow {
  r_idx: number;
  r_outcome: 'ok' | 'conflict' | 'duplicate';
  r_stream: string;
  r_from: string | null;
  r_to: string | null;
  r_position: string | null;
  r_tx: string | null;
  /** timestamptz as text (`rawTimestamps`) */
  r_recorded_at: string | null;
}

/** `committed` is called after a batch in which at least one append won has committed. */
export const createBatchWriter = (pool: pg.Pool, schema: string, committed: () => void) => {
  const writeBatch = async (items: readonly AppendItem[]): Promise<(AdapterAppendResult | Error)[]> => {
    const n = items.length;
    const streams = new Array<string>(n), expected = new Array<number>(n), commands = new Array<string | null>(n);
    const heads = new Array<string>(n), counts = new Array<number>(n);
    const events: BatchEvent[] = [];
    for (let i = 0; i < n; i++) {
      const item = items[i]!;
      const evs = item.input.events;
      streams[i] = item.streamId;
      expected[i] = item.input.expectedVersion;
      commands[i] = item.commandId ?? null;
      heads[i] = evs[evs.length - 1]!.hash;
      counts[i] = evs.length;
      for (const e of evs) {
        events.push({ a: i + 1, r: e.revision, i: e.id, t: e.type, d: e.data, m: e.metadata, h: e.hash, p: e.previousHash });
      }
    }
    const config: pg.QueryConfig = {
      name: `govcase_append_batch_${schema}`,
      text: 'select * from govcase_append_batch($1, $2, $3, $4, $5, $6::jsonb)',
      values: [streams, expected, commands, heads, counts, JSON.stringify(events)],
      types: rawTimestamps,
    };
    let rows: AppendRow[];
    for (let attempt = 0; ; attempt++) {
      try {
        rows = (await pool.query<AppendRow>(config)).rows;
        break;
      } catch (err) {
        if (isTransientError(err) && attempt < 3) continue;
        if (isUnavailableError(err)) throw toGovcaseError(err, 'append');
        // a statement-level failure caused by one bad append must not fail its neighbours
        if (items.length > 1) return (await Promise.all(items.map((it) => writeBatch([it])))).flat();
        return [err instanceof Error ? err : new Error(String(err))];
      }
    }
    if (rows.some((r) => r.r_outcome === 'ok')) committed();
    const byItem: AppendRow[][] = Array.from({ length: n }, () => []);
    for (const r of rows) byItem[r.r_idx - 1]?.push(r);
    const iso = isoTimes(); // every event of the transaction has the same recorded_at (now())
    return items.map((item, i) => toOutcome(item, byItem[i]!, iso));
  };
  return writeBatch;
};

const toOutcome = (item: AppendItem, rows: AppendRow[], iso: (raw: string) => string): AdapterAppendResult | Error => {
  const first = rows[0];
  if (!first) return new Error(`append to ${item.streamId}: no outcome returned`);
  if (first.r_outcome === 'conflict') return { status: 'conflict', actualVersion: Number(first.r_to) };
  if (first.r_outcome === 'duplicate') {
    if (first.r_position === null) return new Error(`append to ${item.streamId}: the duplicate command has no result`);
    return {
      status: 'duplicate',
      record: {
        commandId: item.commandId!, streamId: first.r_stream, fromRevision: Number(first.r_from),
        toRevision: Number(first.r_to), position: formatPosition(first.r_tx!, first.r_position),
      },
    };
  }
  // the rows come in position order, which is the order of the append's events
  if (rows.length !== item.input.events.length) return new Error(`append to ${item.streamId}: ${rows.length} rows for ${item.input.events.length} events`);
  const events = item.input.events.map((e, k): RecordedEvent => {
    const r = Number(rows[k]!.r_from) === e.revision ? rows[k]! : rows.find((x) => Number(x.r_from) === e.revision)!;
    return {
      id: e.id, streamId: e.streamId, revision: e.revision, position: formatPosition(r.r_tx!, r.r_position!), type: e.type, data: e.data,
      metadata: e.metadata, recordedAt: iso(r.r_recorded_at!), hash: e.hash, previousHash: e.previousHash,
    };
  });
  return { status: 'ok', events };
};
