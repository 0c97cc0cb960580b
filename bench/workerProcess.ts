import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromWorker, Impl, Outcome, Task, ToWorker } from './protocol.ts';

/**
 * One implementation's worker process (bench/worker.ts) seen from bench/run.ts: tasks sent over IPC,
 * each with a time limit; a worker that overruns is stopped.
 */
export class Worker {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (o: Outcome) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  private alive = true;

  constructor(readonly impl: Impl, options: { readonly databaseUrl: string; readonly cpuProfDir?: string | undefined; readonly onLog: (line: string) => void }) {
    const execArgv = [...process.execArgv];
    // one folder per implementation and Node's default names (they carry the thread id): a fixed
    // name would let the tsx loader thread's profile overwrite the main thread's
    if (options.cpuProfDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}/${impl}`);
    this.child = fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), [impl], {
      execArgv,
      stdio: ['ignore', 2, 2, 'ipc'],
      env: { ...process.env, DATABASE_URL: options.databaseUrl },
    });
    let onReady: () => void = () => {};
    let onNotReady: (e: Error) => void = () => {};
    this.ready = new Promise<void>((res, rej) => {
      onReady = res;
      onNotReady = rej;
    });
    this.child.on('message', (msg: FromWorker) => {
      if ('ready' in msg) onReady();
      else if ('log' in msg) options.onLog(msg.log);
      else {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.ok) p?.resolve(msg.outcome);
        else p?.reject(new Error(`${impl} worker: ${msg.error}`));
      }
    });
    this.exited = new Promise<void>((res) => {
      this.child.on('exit', (code, signal) => {
        this.alive = false;
        const err = new Error(`${impl} worker exited (${signal ?? code})`);
        onNotReady(err);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        res();
      });
    });
  }

  /** Runs one task; a task that takes longer than `timeoutMs` ends the worker and fails. */
  async run(task: Task, timeoutMs: number): Promise<Outcome> {
    await this.ready;
    if (!this.alive || !this.child.connected) throw new Error(`${this.impl} worker is not running`);
    const id = this.nextId++;
    return new Promise<Outcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.impl} ${task.kind}: no result after ${Math.round(timeoutMs / 1000)} s; stopping its worker`));
        void this.kill();
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (o) => (clearTimeout(timer), resolve(o)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      const msg: ToWorker = { id, task };
      this.child.send(msg);
    });
  }

  /** Asks the worker to finish (it closes its pools), then insists. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    if (this.child.connected) this.child.send({ shutdown: true } satisfies ToWorker);
    if (await this.waitExit(15_000)) return;
    await this.kill();
  }

  async kill(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    if (await this.waitExit(5_000)) return;
    this.child.kill('SIGKILL');
    await this.waitExit(5_000);
  }

  private waitExit(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((res) => (timer = setTimeout(() => res(false), ms))),
    ]).finally(() => clearTimeout(timer));
  }
}
