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
  createTables(db: pg.ClientBase, t: TableNames): Promise<void>;
  apply(db: pg.ClientBase, events: readonly RecordedEvent[], t: TableNames): Promise<void>;
}

export type TableNames = (base: string) => string;

export const tableNames = (suffix: string): TableNames => (base) => (suffix ? `${base}__${suffix}` : base);
