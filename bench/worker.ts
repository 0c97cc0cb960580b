import { IMPLS, type FromWorker, type Impl, type Task, type ToWorker } from './protocol.ts';
import type { ImplBench, ImplContext } from './impl.ts';
import { databaseUrl } from './db.ts';

/**
 * A worker process: runs the tasks of one implementation, one at a time, as bench/run.ts sends
 * them. Its stdout and stderr both go to the orchestrator's stderr. It ends when told to, when the
 * orchestrator goes away, or on SIGTERM; SIGINT is left to the orchestrator, which cleans up.
 */
const impl = process.argv[2] as Impl;
if (!IMPLS.includes(impl) || !process.send) {
  console.error('bench/worker.ts is started by bench/run.ts');
  process.exit(2);
}

const send = (msg: FromWorker) => {
  if (process.connected) process.send!(msg);
};
const ctx: ImplContext = { url: databaseUrl(), log: (msg) => send({ log: msg }) };

const load = async (): Promise<ImplBench> => {
  // loaded on demand: the govcase and pg workers never load Emmett (nor its global pg type parsers)
  switch (impl) {
    case 'govcase':
      return (await import('./impls/govcase.ts')).createGovcaseBench(ctx);
    case 'emmett':
      return (await import('./impls/emmett.ts')).createEmmettBench(ctx);
    case 'pg':
      return (await import('./impls/pg.ts')).createPgBench(ctx);
  }
};

const run = (bench: ImplBench, task: Task) => {
  switch (task.kind) {
    case 'append':
      return bench.append(task);
    case 'fill':
      return bench.fill(task);
    case 'catchup':
      return bench.catchup(task);
  }
};

process.on('SIGINT', () => {});
process.on('disconnect', () => process.exit(1));

const bench = await load();
let queue = Promise.resolve();
process.on('message', (msg: ToWorker) => {
  if ('shutdown' in msg) {
    void queue.finally(() => process.exit(0));
    return;
  }
  queue = queue.then(async () => {
    try {
      send({ id: msg.id, ok: true, outcome: await run(bench, msg.task) });
    } catch (err) {
      send({ id: msg.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
});
send({ ready: true });
