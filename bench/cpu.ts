import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

/** CPU accounting from /proc (Linux): the whole machine and every local `postgres` process. */
export interface CpuSample {
  /** Whole machine, in clock ticks (/proc/stat). */
  readonly busy: number;
  readonly total: number;
  /** CPU ticks of each process named `postgres` on this machine (none if the server runs elsewhere). */
  readonly postgres: ReadonlyMap<string, number>;
}

/** Ticks the `postgres` processes alive at both samples spent between them (exited ones are not seen). */
export const postgresTicks = (a: CpuSample, b: CpuSample): number => {
  let ticks = 0;
  for (const [pid, t] of b.postgres) {
    const before = a.postgres.get(pid);
    if (before !== undefined && t >= before) ticks += t - before;
  }
  return ticks;
};

export const TICKS_PER_SECOND = 100; // USER_HZ, 100 on Linux

/** A process's name and CPU ticks (user + system) from /proc/<pid>/stat; null when it is gone or not Linux. */
const procStat = (pid: number | string): { name: string; ticks: number } | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const f = stat.slice(close + 2).split(' ');
    return { name: stat.slice(stat.indexOf('(') + 1, close), ticks: Number(f[11]) + Number(f[12]) }; // utime, stime
  } catch {
    return null;
  }
};

/** CPU ticks these processes have used so far (the ones that are gone count 0). */
export const processTicks = (pids: readonly number[]): number => pids.reduce((sum, pid) => sum + (procStat(pid)?.ticks ?? 0), 0);

/** A Linux-only CPU sample; null elsewhere. */
export const sampleCpu = (): CpuSample | null => {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.reduce((a, b) => a + b, 0);
    const postgres = new Map<string, number>();
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const stat = procStat(pid);
      if (stat?.name === 'postgres') postgres.set(pid, stat.ticks);
    }
    return { busy: total - idle, total, postgres };
  } catch {
    return null;
  }
};

// ---- this process, the local PostgreSQL and the rest of the machine, between two samples ----------

export interface LoadSample { readonly at: number; readonly self: NodeJS.CpuUsage; readonly machine: CpuSample | null }

export const sampleLoad = (): LoadSample => ({ at: performance.now(), self: process.cpuUsage(), machine: sampleCpu() });

export interface CpuFigures { readonly client: number; readonly postgres: number; readonly other: number; readonly machine: number }

/** Cores busy between two samples: this process, all local postgres processes, everything else. */
export const cpuBetween = (a: LoadSample, b: LoadSample): CpuFigures => {
  const secs = (b.at - a.at) / 1000;
  if (secs <= 0) return { client: 0, postgres: 0, other: 0, machine: 0 };
  const client = (b.self.user - a.self.user + b.self.system - a.self.system) / 1e6 / secs;
  const m0 = a.machine, m1 = b.machine;
  const postgres = m0 && m1 ? postgresTicks(m0, m1) / TICKS_PER_SECOND / secs : 0;
  const machine = m0 && m1 && m1.total > m0.total ? ((m1.busy - m0.busy) / (m1.total - m0.total)) * cpus().length : 0;
  return { client, postgres, other: Math.max(0, machine - client - postgres), machine };
};

export const loadAverage = () => loadavg().map((l) => l.toFixed(2)).join(' ');
