import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `govcase serve` as a child process — the real binary, the real boot, the real shutdown — on a
 * port the kernel picks (PORT=0; the port is read from the "serving at" line it prints). Restarts
 * keep the same environment and GOVCASE_HOME, so development keys survive a crash like they would.
 */
export const RELIABILITY_JWT_SECRET = 'reliability-secret-reliability-secret-0123456789';
export const RELIABILITY_MASTER_KEY = '0123456789abcdef0123456789abcdef';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ServerProcessOptions {
  readonly databaseUrl: string;
  readonly schema: string;
  readonly redisUrl?: string;
  /** extra environment (RATE_LIMIT_MAX, UNDER_PRESSURE_…, LOG_LEVEL) */
  readonly env?: Record<string, string>;
  /** node flags for the server, e.g. `--expose-gc` */
  readonly nodeArgs?: readonly string[];
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  /** the current base URL (changes on every start) */
  readonly url: () => string;
  readonly pid: () => number | undefined;
  start(): Promise<string>;
  /** SIGKILL, no warning; resolves when the process is gone */
  kill(): Promise<ExitInfo>;
  /** SIGTERM; resolves with how it exited and how long it took */
  terminate(timeoutMs?: number): Promise<ExitInfo & { ms: number }>;
  /** stderr lines of every run so far (for diagnosing) */
  readonly log: string[];
  /** the same lines with the time they arrived */
  readonly timed: { at: number; line: string }[];
  /** resident set size of the running process in MB (from /proc), or null */
  rssMb(): number | null;
  dispose(): Promise<void>;
}

export const createServerProcess = (options: ServerProcessOptions): ServerProcess => {
  const home = mkdtempSync(path.join(tmpdir(), 'govcase-rel-'));
  const log: string[] = [];
  const timed: { at: number; line: string }[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<ExitInfo> | undefined;
  let url = '';

  const env = {
    ...process.env,
    NODE_ENV: 'development',
    DATABASE_URL: options.databaseUrl,
    DATABASE_SCHEMA: options.schema,
    DATABASE_POOL_SIZE: '10',
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: RELIABILITY_JWT_SECRET,
    GOVCASE_MASTER_KEY: RELIABILITY_MASTER_KEY,
    GOVCASE_HOME: home,
    RATE_LIMIT_MAX: '0',
    DEADLINE_CLOCK: 'off',
    LOG_LEVEL: 'warn',
    REDIS_URL: options.redisUrl ?? '',
    ...options.env,
  };

  const start = () =>
    new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, [...(options.nodeArgs ?? []), path.join(ROOT, 'bin/govcase.js'), 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      exited = new Promise((r) => c.once('exit', (code, signal) => r({ code, signal })));
      let buffer = '';
      const timer = setTimeout(() => reject(new Error(`the server did not start in 60 s:\n${log.slice(-20).join('\n')}`)), 60_000);
      const onLine = (line: string) => {
        log.push(line);
        timed.push({ at: Date.now(), line });
        if (log.length > 5_000) log.splice(0, 1_000);
        if (timed.length > 5_000) timed.splice(0, 1_000);
        const m = /serving at (http:\/\/[^\s]+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          url = m[1]!;
          resolve(url);
        }
      };
      const onData = (d: Buffer) => {
        buffer += String(d);
        let i: number;
        while ((i = buffer.indexOf('\n')) >= 0) {
          onLine(buffer.slice(0, i));
          buffer = buffer.slice(i + 1);
        }
      };
      c.stderr!.on('data', onData);
      c.stdout!.on('data', onData);
      c.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the server exited while starting (code ${code}, signal ${signal}):\n${log.slice(-20).join('\n')}`));
      });
    });

  const waitExit = async (timeoutMs: number): Promise<ExitInfo> => {
    const e = exited;
    if (!e) return { code: null, signal: null };
    let t: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([e, new Promise<never>((_, reject) => { t = setTimeout(() => reject(new Error(`the server did not exit within ${timeoutMs} ms`)), timeoutMs); })]);
    } finally {
      clearTimeout(t);
    }
  };

  return {
    url: () => url,
    pid: () => child?.pid,
    start,
    async kill() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return (await exited) ?? { code: null, signal: null };
      child.kill('SIGKILL');
      return waitExit(10_000);
    },
    async terminate(timeoutMs = 30_000) {
      const t0 = Date.now();
      if (!child || child.exitCode !== null || child.signalCode !== null) return { ...((await exited) ?? { code: null, signal: null }), ms: 0 };
      child.kill('SIGTERM');
      const info = await waitExit(timeoutMs);
      return { ...info, ms: Date.now() - t0 };
    },
    log,
    timed,
    rssMb() {
      try {
        return procRssMb(child?.pid);
      } catch {
        return null;
      }
    },
    async dispose() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await waitExit(10_000).catch(() => undefined);
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
};

/** VmRSS of a process, in MB, from /proc (Linux). */
export const procRssMb = (pid: number | undefined): number | null => {
  if (!pid) return null;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Math.round(Number(m[1]) / 1024) : null;
};
