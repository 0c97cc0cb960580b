import { performance } from 'node:perf_hooks';
import type { AppendOutcome, AppendTask, CatchupOutcome, CatchupTask, FillOutcome, FillTask } from './protocol.ts';
import { summarizeLatency, type LoadResult } from './workload.ts';

/** One implementation under test, as a worker process drives it. */
export interface ImplBench {
  append(task: AppendTask): Promise<AppendOutcome>;
  fill(task: FillTask): Promise<FillOutcome>;
  catchup(task: CatchupTask): Promise<CatchupOutcome>;
}

export interface ImplContext {
  readonly url: string;
  readonly log: (msg: string) => void;
}

export const toAppendOutcome = (load: LoadResult, details: Record<string, number> = {}, ownBackendCores: number | null = null): AppendOutcome => ({
  kind: 'append',
  appends: load.appends,
  events: load.events,
  seconds: load.seconds,
  eventsPerSec: load.events / load.seconds,
  appendsPerSec: load.appends / load.seconds,
  ...summarizeLatency(load.latenciesMs),
  clientCores: load.clientCores,
  machineBusy: load.machineBusy,
  serverCores: load.serverCores,
  otherCores: load.otherCores,
  ownBackendCores,
  cpuUsPerAppend: ownBackendCores !== null && Number.isFinite(load.clientCores) && load.appends > 0
    ? ((load.clientCores + ownBackendCores) * 1e6) / (load.appends / load.seconds) : null,
  loadAverage: load.loadAverage,
  details,
});

/** A unique-enough prefix for stream names, so a top-up never collides with earlier streams. */
export const runTag = (): string => `${Date.now().toString(36)}${process.pid.toString(36)}-`;

/**
 * Times one full read; `read` returns the events and pages it saw. Runs it once untimed first if
 * asked. A read that does not deliver exactly the log fails, unless `onMismatch` takes the blame
 * (reported, and the figure is then the events actually delivered).
 */
export const timeCatchup = async (
  task: CatchupTask,
  read: () => Promise<{ events: number; pages: number }>,
  onMismatch?: (events: number) => void,
): Promise<CatchupOutcome> => {
  if (task.warmup) await read();
  const t0 = performance.now();
  const { events, pages } = await read();
  const seconds = (performance.now() - t0) / 1000;
  if (events !== task.expected) {
    if (!onMismatch) throw new Error(`catch-up read ${events} events, expected ${task.expected}`);
    onMismatch(events);
  }
  return { kind: 'catchup', events, pages, seconds, eventsPerSec: events / seconds };
};

/** Rejects when `ms` pass first: nothing in a worker waits forever. */
export const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
};
