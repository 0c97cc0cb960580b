import { postgresTicks, sampleCpu, TICKS_PER_SECOND, type CpuSample } from './cpu.ts';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

/**
 * The write workload, the same for every implementation: `concurrency` writers, each appending to
 * streams of its own (no two writers ever touch one stream), `APPENDS_PER_STREAM` appends per
 * stream — the first creates it (no stream / version 0), the rest append at the version the writer
 * knows from its previous append — then on to a new stream.
 */
export const APPENDS_PER_STREAM = 10;

/** One event as every implementation gets it: a plausible case event, ~0.6 KB of JSON in all. */
export interface BenchEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: {
    readonly actorId: string;
    readonly actorRole: string;
    readonly departmentCode: string;
    readonly correlationId: string;
    readonly occurredAt: string;
    readonly clientApp: string;
  };
}

const TYPES = ['CaseSubmitted', 'MaterialsSupplemented', 'CaseAccepted', 'ReviewOpinionRecorded', 'CaseDecided'] as const;

export const makeEvents = (streamId: string, firstIndex: number, count: number): BenchEvent[] => {
  const occurredAt = new Date().toISOString();
  const correlationId = randomUUID();
  return Array.from({ length: count }, (_, i): BenchEvent => {
    const n = firstIndex + i;
    return {
      type: TYPES[n % TYPES.length]!,
      data: {
        caseId: streamId,
        serviceItemCode: '520000-000201-017',
        step: n,
        applicant: { kind: 'person', name: '张三', idType: 'resident_id', idNumberMasked: '5201**********1234', phone: '138****0000' },
        materials: [
          { code: 'M001', name: '申请表', copies: 1, electronic: true },
          { code: 'M002', name: '身份证明', copies: 1, electronic: true },
        ],
        opinion: '材料齐全，符合法定形式，予以受理。',
        deadline: '2026-03-31',
      },
      metadata: {
        actorId: 'u-000123',
        actorRole: 'clerk',
        departmentCode: '520100-SPJ',
        correlationId,
        occurredAt,
        clientApp: 'bench',
      },
    };
  });
};

/** What an implementation does for one append call; `version` = events already in the stream. */
export type AppendFn = (writer: number, streamId: string, version: number, events: readonly BenchEvent[]) => Promise<void>;

export interface LoadResult {
  readonly appends: number;
  readonly events: number;
  readonly seconds: number;
  readonly latenciesMs: Float64Array;
  readonly clientCores: number;
  readonly machineBusy: number | null;
  /** Cores used by local `postgres` processes; null when not measurable. */
  readonly serverCores: number | null;
  /** Cores used by everything else on the machine (other work disturbing the measurement). */
  readonly otherCores: number | null;
  /** The /proc samples at the window's edges and the seconds between them (for `ownBackendCores`). */
  readonly edges: { readonly a: CpuSample; readonly b: CpuSample; readonly span: number } | null;
  /** The 1-minute load average when the window ended. */
  readonly loadAverage: number;
}

/**
 * Runs the writers for `warmupSeconds` (not counted) then `seconds` (counted: appends that complete
 * inside the window). No append starts after the window; the ones in flight then are awaited.
 */
export const runAppendLoad = async (opts: {
  readonly append: AppendFn;
  readonly concurrency: number;
  readonly eventsPerCall: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  readonly streamPrefix: string;
}): Promise<LoadResult> => {
  const { append, concurrency, eventsPerCall } = opts;
  const t0 = performance.now();
  const windowStart = t0 + opts.warmupSeconds * 1000;
  const windowEnd = windowStart + opts.seconds * 1000;
  let appends = 0;
  let latencies = new Float64Array(1 << 16);
  // CPU samples at the window's edges, taken by the first writer to cross each edge
  let start: { at: number; cpu: NodeJS.CpuUsage; stat: CpuSample | null } | null = null;
  let end: { at: number; cpu: NodeJS.CpuUsage; stat: CpuSample | null } | null = null;
  const sample = () => ({ at: performance.now(), cpu: process.cpuUsage(), stat: sampleCpu() });

  const writer = async (w: number) => {
    let stream = 0;
    let version = 0;
    let appendsInStream = 0;
    for (;;) {
      const started = performance.now();
      if (started >= windowEnd) {
        end ??= sample();
        return;
      }
      if (appendsInStream === APPENDS_PER_STREAM) {
        stream++;
        version = 0;
        appendsInStream = 0;
      }
      const streamId = `case-${opts.streamPrefix}${w}x${stream}`;
      await append(w, streamId, version, makeEvents(streamId, version, eventsPerCall));
      version += eventsPerCall;
      appendsInStream++;
      const done = performance.now();
      if (done >= windowStart && done < windowEnd) {
        start ??= sample();
        if (appends === latencies.length) {
          const bigger = new Float64Array(latencies.length * 2);
          bigger.set(latencies);
          latencies = bigger;
        }
        latencies[appends++] = done - started;
      } else if (done >= windowEnd) {
        end ??= sample();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => writer(w)));
  const s0 = start as ReturnType<typeof sample> | null;
  const s1 = end as ReturnType<typeof sample> | null;
  const span = s0 && s1 ? (s1.at - s0.at) / 1000 : 0;
  const clientCores = s0 && s1 && span > 0
    ? (s1.cpu.user - s0.cpu.user + s1.cpu.system - s0.cpu.system) / 1e6 / span : NaN;
  const a = s0?.stat, b = s1?.stat;
  const machineBusy = a && b && b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : null;
  const serverCores = a && b && span > 0 && b.postgres.size > 0 ? postgresTicks(a, b) / TICKS_PER_SECOND / span : null;
  const machineCores = machineBusy === null ? null : machineBusy * cpus().length;
  return {
    appends,
    events: appends * eventsPerCall,
    seconds: opts.seconds,
    latenciesMs: latencies.subarray(0, appends),
    clientCores,
    machineBusy,
    serverCores,
    otherCores: machineCores !== null && serverCores !== null && Number.isFinite(clientCores)
      ? Math.max(0, machineCores - clientCores - serverCores) : null,
    edges: a && b && span > 0 ? { a, b, span } : null,
    loadAverage: loadavg()[0] ?? NaN,
  };
};

/**
 * Cores used over the measured window by the given PostgreSQL backends only (the implementation's own
 * connections, by pid): unlike `serverCores` (every local postgres process), other people's queries
 * on the same server do not count. Background processes (WAL writer, checkpointer) are not included.
 */
export const ownBackendCores = (load: LoadResult, pids: readonly number[]): number | null => {
  if (!load.edges || pids.length === 0) return null;
  const { a, b, span } = load.edges;
  let ticks = 0;
  for (const pid of pids) {
    const t0 = a.postgres.get(String(pid)), t1 = b.postgres.get(String(pid));
    if (t0 !== undefined && t1 !== undefined && t1 >= t0) ticks += t1 - t0;
  }
  return ticks / TICKS_PER_SECOND / span;
};

/** The backend pids of the connections named `applicationName` (the implementation's pool). */
export const backendPids = async (
  query: (text: string, values: unknown[]) => Promise<{ rows: { pid: number }[] }>,
  applicationName: string,
): Promise<number[]> =>
  (await query('select pid from pg_stat_activity where application_name = $1 and datname = current_database()', [applicationName])).rows.map((r) => r.pid);

export const summarizeLatency = (ms: Float64Array): { meanMs: number; p99Ms: number } => {
  if (ms.length === 0) return { meanMs: NaN, p99Ms: NaN };
  const sorted = Float64Array.from(ms).sort();
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { meanMs: mean, p99Ms: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]! };
};

/**
 * Fills a log with exactly `total` events through `append`: 32 writers, 10-event appends, streams of
 * APPENDS_PER_STREAM appends. Returns when every event is in.
 */
export const fillLog = async (opts: {
  readonly append: AppendFn;
  readonly total: number;
  readonly streamPrefix: string;
  readonly progress: (done: number) => void;
}): Promise<void> => {
  const concurrency = 32, perCall = 10;
  let claimed = 0, done = 0, lastReport = performance.now();
  const writer = async (w: number) => {
    let stream = 0, version = 0, appendsInStream = 0;
    for (;;) {
      const n = Math.min(perCall, opts.total - claimed);
      if (n <= 0) return;
      claimed += n;
      if (appendsInStream === APPENDS_PER_STREAM) {
        stream++;
        version = 0;
        appendsInStream = 0;
      }
      const streamId = `case-${opts.streamPrefix}${w}x${stream}`;
      await opts.append(w, streamId, version, makeEvents(streamId, version, n));
      version += n;
      appendsInStream++;
      done += n;
      if (performance.now() - lastReport > 5_000) {
        lastReport = performance.now();
        opts.progress(done);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => writer(w)));
};

/** Cores busy on this machine (and the local PostgreSQL's share) over `ms` while the benchmark is idle. */
export const backgroundLoad = async (ms: number): Promise<{ machineCores: number; postgresCores: number } | null> => {
  const a = sampleCpu();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const b = sampleCpu();
  const seconds = (performance.now() - t0) / 1000;
  if (!a || !b || b.total <= a.total) return null;
  return {
    machineCores: ((b.busy - a.busy) / (b.total - a.total)) * cpus().length,
    postgresCores: postgresTicks(a, b) / TICKS_PER_SECOND / seconds,
  };
};
