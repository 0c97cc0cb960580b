import type pg from 'pg';
import type { RecordedEvent } from '../application/eventStore.ts';

/**
 * A projection: pure evolve functions (beside it) plus the SQL that stores their result. The runner
 * calls `apply` with a page of the global log inside the transaction that also moves the checkpoint.
 * Table names go through `t(base)` so a rebuild can build the same tables under another suffix.
 */
export interface Projection {
  readonly name: string;
  /** Base names of the tables this projection owns (renamed together on switch-over). */
  readonly tables: readonly string[];
  /** Event types it needs; the runner still advances over the others. Omitted = all. */
  readonly eventTypes?: readonly string[];
  createTables(db: pg.ClientBase, t: TableNames, options?: CreateTablesOptions): Promise<void>;
  apply(db: pg.ClientBase, events: readonly RecordedEvent[], t: TableNames): Promise<void>;
  /**
   * Optional, for a rebuild: a session that folds many pages in memory and writes each changed row
   * once per flush instead of once per page. Same rows as `apply` page by page.
   */
  replay?(t: TableNames): ReplaySession;
}

export interface CreateTablesOptions {
  /**
   * Leave out the secondary indexes (a rebuild builds into bare tables and indexes them when they are
   * finished; calling `createTables` again without this option adds them). `apply` must work without them.
   */
  readonly deferIndexes?: boolean;
}

export interface ReplaySession {
  /** Folds a page into memory, reading from `db` only the rows it does not hold yet. Writes nothing. */
  fold(db: pg.Pool | pg.ClientBase, events: readonly RecordedEvent[]): Promise<void>;
  /** Rows changed since the last flush (the caller flushes when it reaches its bound). */
  readonly size: number;
  /**
   * Writes every row changed since the last flush, in the caller's transaction (the one that moves
   * the checkpoint), and keeps in memory the `keep` rows touched last (default 0) plus those it writes.
   * What to write is taken when it is called, so the caller may fold further pages while the write
   * runs, but must not call it again before that transaction has committed; if it does not commit,
   * the session is no longer valid.
   */
  flush(db: pg.ClientBase, keep?: number): Promise<void>;
}

export type TableNames = (base: string) => string;

export const tableNames = (suffix: string): TableNames => (base) => (suffix ? `${base}__${suffix}` : base);
