/**
 * What the orchestrator (bench/run.ts) and a worker process (bench/worker.ts) say to each other.
 * Each implementation runs in a worker of its own: Emmett's connection layer (dumbo) replaces pg's
 * global type parsers (int8 → BigInt, jsonb → a BigInt-aware JSON reviver), which would otherwise
 * change how our own store and the bare pg baseline parse rows in the same process.
 */
export const IMPLS = ['govcase', 'emmett', 'pg'] as const;
export type Impl = (typeof IMPLS)[number];

/** How a catch-up read is done; the JSON `impl` field of a catch-up line is `<impl>:<method>`. */
export type CatchupMethod = 'readAll' | 'subscribeToAll' | 'readMessagesBatch';

export interface AppendTask {
  readonly kind: 'append';
  readonly schema: string;
  readonly eventsPerCall: number;
  readonly concurrency: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
}

export interface FillTask {
  readonly kind: 'fill';
  readonly schema: string;
  readonly events: number;
}

export interface CatchupTask {
  readonly kind: 'catchup';
  readonly schema: string;
  readonly method: CatchupMethod;
  readonly pageSize: number;
  /** Events in the log: the read ends there (subscribeToAll never ends by itself). */
  readonly expected: number;
  /** An untimed read of the whole log first (JIT, caches). */
  readonly warmup: boolean;
  readonly timeoutMs: number;
}

export type Task = AppendTask | FillTask | CatchupTask;

export interface AppendOutcome {
  readonly kind: 'append';
  readonly appends: number;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSec: number;
  readonly appendsPerSec: number;
  /** Mean and 99th percentile latency of one append call (ms), inside the measured window. */
  readonly meanMs: number;
  readonly p99Ms: number;
  /** CPU of the worker process (the client), in cores, over the measured window. */
  readonly clientCores: number;
  /** Whole-machine busy share over the measured window (0..1), from /proc/stat; null elsewhere. */
  readonly machineBusy: number | null;
  /** Cores used by local `postgres` processes, and by everything else (neither client nor server). */
  readonly serverCores: number | null;
  readonly otherCores: number | null;
  /** Cores used by this implementation's own backends (its pool's connections, by pid); null if unknown. */
  readonly ownBackendCores: number | null;
  /** CPU per append, µs: client + own backends (WAL writer etc. excluded); robust to other load. */
  readonly cpuUsPerAppend: number | null;
  /** 1-minute load average at the end of the window. */
  readonly loadAverage: number;
  /** Implementation-specific counts, e.g. transactions (group-commit batches) for govcase. */
  readonly details: Readonly<Record<string, number>>;
}

export interface FillOutcome {
  readonly kind: 'fill';
  readonly events: number;
  readonly reused: boolean;
  readonly seconds: number;
}

export interface CatchupOutcome {
  readonly kind: 'catchup';
  readonly events: number;
  readonly pages: number;
  readonly seconds: number;
  readonly eventsPerSec: number;
}

export type Outcome = AppendOutcome | FillOutcome | CatchupOutcome;

export type ToWorker = { readonly id: number; readonly task: Task } | { readonly shutdown: true };

export type FromWorker =
  | { readonly ready: true }
  | { readonly log: string }
  | { readonly id: number; readonly ok: true; readonly outcome: Outcome }
  | { readonly id: number; readonly ok: false; readonly error: string };
