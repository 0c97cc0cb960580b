import { readdirSync, readFileSync } from 'node:fs';

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
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
        const f = stat.slice(close + 2).split(' ');
        postgres.set(pid, Number(f[11]) + Number(f[12])); // utime, stime
      } catch {
        // the process ended meanwhile
      }
    }
    return { busy: total - idle, total, postgres };
  } catch {
    return null;
  }
};
