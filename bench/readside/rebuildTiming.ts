import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { EventStore } from '../../application/eventStore.ts';
import type { Projection } from '../../projections/projection.ts';
import { rebuildProjection } from '../../projections/rebuild.ts';
import { fmtInt } from '../report.ts';

/**
 * A rebuild from zero of one projection, timed, with where its time goes: reading the log, folding
 * in memory, the projection's SQL, the flushes (bench/readside/rebuild.ts reports it).
 */

export interface RebuildFigures {
  readonly projection: string;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSec: number;
  /** readAll: query + row parsing */
  readonly readSec: number;
  /** projection.apply outside its queries: folding, JSON, blind index */
  readonly foldSec: number;
  /** projection.apply's queries (round trip, server work) */
  readonly sqlSec: number;
  /** the rest: checkout, begin, locks, checkpoint update, notify, commit; table setup, count, switch-over */
  readonly otherSec: number;
  readonly pages: number;
  /** of sql: a replay session's flushes (the rest is its reads of rows it did not hold) */
  readonly flushSec: number;
  /** creating the secondary indexes and analyzing, after the replay (part of other) */
  readonly indexSec: number;
}

interface Timers { read: number; fold: number; sql: number; pages: number; flush: number }

const timedStore = (store: EventStore, timers: Timers): EventStore => ({
  ...store,
  async readAll(opts) {
    const t0 = performance.now();
    try {
      return await store.readAll(opts);
    } finally {
      timers.read += performance.now() - t0;
      timers.pages++;
    }
  },
});

/** `db` with every `query` timed into `add`. */
const timedDb = <D extends object>(db: D, add: (ms: number) => void): D => {
  const query = (db as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query.bind(db);
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'query')
        return async (...args: unknown[]) => {
          const q0 = performance.now();
          try {
            return await query(...args);
          } finally {
            add(performance.now() - q0);
          }
        };
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
};

/** Times `work` (given a timed `db`) into fold (outside its queries) and sql (its queries). */
const timed = async <D extends object>(timers: Timers, db: D, work: (db: D) => Promise<void>, flush = false) => {
  const t0 = performance.now();
  let sql = 0;
  try {
    await work(timedDb(db, (ms) => (sql += ms)));
  } finally {
    timers.sql += sql;
    if (flush) timers.flush += sql;
    timers.fold += performance.now() - t0 - sql;
  }
};

/**
 * The projection with its work timed. `plain`: as before the rebuild optimisations — no replay
 * session (page by page through `apply`) and every index from the start (the `deferIndexes` option dropped).
 */
const timedProjection = (p: Projection, timers: Timers, plain = false): Projection => {
  const { replay, ...rest } = p;
  return {
    ...rest,
    createTables: (db, t, options) => p.createTables(db, t, plain ? {} : options),
    apply: (db, events, t) => timed(timers, db, (d) => p.apply(d, events, t)),
    ...(replay && !plain ? {
      replay(t) {
        const session = replay.call(p, t);
        return {
          get size() { return session.size; },
          fold: (db, events) => timed(timers, db, (d) => session.fold(d, events)),
          flush: (db, keep) => timed(timers, db, (d) => session.flush(d, keep), true),
        };
      },
    } : {}),
  };
};

export const timeRebuild = async (
  pool: pg.Pool, store: EventStore, projection: Projection, schema: string, batchSize?: number, progress?: (line: string) => void, signal?: AbortSignal,
  plain = false, maxRows?: number,
): Promise<RebuildFigures> => {
  const timers: Timers = { read: 0, fold: 0, sql: 0, pages: 0, flush: 0 };
  let indexing: number | null = null;
  let switching: number | null = null;
  let lastLog = performance.now();
  const t0 = performance.now();
  const res = await rebuildProjection({
    pool, store: timedStore(store, timers), projection: timedProjection(projection, timers, plain), schema, fresh: true,
    ...(batchSize === undefined ? {} : { batchSize }),
    ...(maxRows === undefined ? {} : { maxRows }),
    ...(signal === undefined ? {} : { signal }),
    onProgress: (p) => {
      if (p.phase === 'indexing') indexing ??= performance.now();
      if (p.phase === 'switching') switching ??= performance.now();
      if (progress && performance.now() - lastLog > 5_000) {
        lastLog = performance.now();
        progress(`  ${p.projection}: ${fmtInt(p.done)} / ${fmtInt(p.total)} events (${fmtInt(p.eventsPerSec)}/s)`);
      }
    },
  });
  const ms = performance.now() - t0;
  if (res.phase !== 'done') throw new Error(`rebuild of ${projection.name} ended ${res.phase}`);
  return {
    projection: projection.name, events: res.done, seconds: ms / 1000, eventsPerSec: res.done / (ms / 1000),
    readSec: timers.read / 1000, foldSec: timers.fold / 1000, sqlSec: timers.sql / 1000,
    otherSec: (ms - timers.read - timers.fold - timers.sql) / 1000, pages: timers.pages,
    flushSec: timers.flush / 1000, indexSec: indexing !== null && switching !== null ? (switching - indexing) / 1000 : 0,
  };
};
