import { parseArgs } from 'node:util';
import { buildServer } from '../../graphql/server.ts';
import { ConfigError, loadEnv, type Env } from '../config.ts';
import { startRuntime } from '../runtime.ts';
import { loadOrCreateSecret } from '../keys.ts';
import { createTokenVerifier, signToken } from '../../graphql/auth.ts';
import { seedDemo } from './seed.ts';
import { createLiveEvents } from '../../graphql/liveEvents.ts';
import { createMetrics } from '../../graphql/metrics.ts';
import { connectRedis } from '../redis.ts';
import { instrumentAppends } from '../instrumentedStore.ts';
import { rebuildProjection, type RebuildProgress } from '../../projections/rebuild.ts';
import { EXPORT_IMPORT_USAGE, runExport, runImport } from './exportImport.ts';
import { runCheckpoints, runPublicKey, runVerify, VERIFY_USAGE } from './verify.ts';
import { REPLAY_USAGE, runReplay } from './replay.ts';
import { EXCHANGE_EXPORT_USAGE, runExchangeExport, wantsGbt39046 } from './exchangeExport.ts';
import { exchangeStatus } from '../../projections/exchange/status.ts';
import { configuredExchangeTargets } from '../exchange/fromEnv.ts';

const USAGE = `usage: govcase <command> [options]

commands:
  serve      start the API (what \`npm start\` runs)
  migrate    apply the schema migrations and exit
  token --sub U --roles clerk[,reviewer] [--dept D] [--region R] [--name N] [--ttl 1h]
             print a signed JWT (HS256, JWT_SECRET or the dev secret) for development and tests
  seed [--cases N]
             a demo catalogue (6 regions × 4 departments) and N cases (default 1000) across the lifecycle
  rebuild [PROJECTION…] [--restart]
             rebuild read models from position zero into fresh tables while the live ones
             keep serving, then switch over; Ctrl-C interrupts, running it again resumes
${EXPORT_IMPORT_USAGE}
${VERIFY_USAGE}
${REPLAY_USAGE}
${EXCHANGE_EXPORT_USAGE}

Configuration comes from the environment; see README.md.`;

const say = (msg: string) => process.stderr.write(`govcase: ${msg}\n`);

const serve = async (env: Env) => {
  const runtime = await startRuntime(env, say);
  const { runner } = runtime.startBackground();
  const jwtSecret = env.JWT_PUBLIC_KEY ? undefined : await loadOrCreateSecret({
    name: 'JWT_SECRET', value: env.JWT_SECRET, home: env.GOVCASE_HOME, production: env.NODE_ENV === 'production', bytes: 32, log: say,
  });
  let stopping = false;
  const liveEvents = createLiveEvents(runtime.store, say);
  await liveEvents.start();
  const metrics = createMetrics(runner, configuredExchangeTargets(env).length > 0 ? () => exchangeStatus(runtime.pool) : undefined, runtime.deps.cache);
  const redis = env.REDIS_URL ? await connectRedis(env.REDIS_URL, say) : undefined;
  const app = await buildServer({
    logLevel: env.LOG_LEVEL,
    health: { checkDatabase: async () => void (await runtime.pool.query('select 1')), draining: () => stopping },
    graphiql: env.NODE_ENV !== 'production',
    metrics,
    rateLimit: { max: env.RATE_LIMIT_MAX, windowMs: env.RATE_LIMIT_WINDOW_MS, redis },
    underPressure: {
      maxEventLoopDelayMs: env.UNDER_PRESSURE_MAX_EVENT_LOOP_DELAY_MS, maxHeapUsedMb: env.UNDER_PRESSURE_MAX_HEAP_MB,
      maxRssMb: env.UNDER_PRESSURE_MAX_RSS_MB, maxEventLoopUtilization: env.UNDER_PRESSURE_MAX_EVENT_LOOP_UTILIZATION,
      retryAfterSeconds: env.UNDER_PRESSURE_RETRY_AFTER_S,
    },
    api: {
      pool: runtime.pool, store: instrumentAppends(runtime.store, metrics.appendSeconds), write: runtime.deps, blindIndex: runtime.blindIndex, runner, liveEvents,
      verifier: createTokenVerifier({ secret: jwtSecret, publicKey: env.JWT_PUBLIC_KEY }),
      integrity: runtime.integrity, audit: runtime.audit,
    },
  });
  // Graceful shutdown (test/reliability/shutdown.int.test.ts): /readyz turns red, no new connections,
  // requests already in flight are answered (commands finish their append), then the live-event tail,
  // Redis, the projection runner (after its current batch), the deadline clock, the event store and
  // the pool close, in that order. Exit 0 when all of it closed, 1 when a step failed or 15 s passed.
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const began = Date.now();
    say(`${signal}: shutting down`);
    const force = setTimeout(() => {
      say('shutdown took longer than 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    let failed = false;
    const steps: [string, () => Promise<unknown>][] = [
      ['the HTTP server', () => app.close()],
      ['live events', () => liveEvents.stop()],
      ['Redis', async () => redis?.close()],
      ['projections, the event store and the pool', () => runtime.close()],
    ];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (err) {
        failed = true;
        say(`shutdown: closing ${what} failed: ${(err as Error).message}`);
      }
    }
    say(`stopped in ${Date.now() - began} ms`);
    process.exit(failed ? 1 : 0);
  };
  // diagnostics: with `node --expose-gc`, SIGUSR2 runs a full collection and logs what stays on the heap
  // (how the fuzz suite tells retained memory from garbage not yet collected)
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) process.on('SIGUSR2', () => {
    gc();
    say(`gc: heap used ${Math.round(process.memoryUsage().heapUsed / 1_048_576)} MB after a full collection`);
  });
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  const address = await app.listen({ port: env.PORT, host: env.HOST });
  say(`serving at ${address} (database: ${runtime.embedded ? `embedded, ${runtime.databaseUrl.replace(/:[^:@/]*@/, ':***@')}` : 'DATABASE_URL'})`);
};

const migrateOnly = async (env: Env) => {
  const runtime = await startRuntime(env, say);
  await runtime.close();
};

const formatProgress = (p: RebuildProgress) => {
  const pct = p.total > 0 ? ((100 * p.done) / p.total).toFixed(1) : '100.0';
  const eta = p.etaSeconds === null ? '?' : `${Math.ceil(p.etaSeconds)} s`;
  return `${p.projection}: ${p.done.toLocaleString('en')} / ${p.total.toLocaleString('en')} events (${pct}%), ${p.eventsPerSec.toLocaleString('en')} events/s, ETA ${eta} [${p.phase}]`;
};

const rebuild = async (env: Env, names: string[], restart: boolean): Promise<number> => {
  const runtime = await startRuntime(env, say);
  try {
    const known = runtime.projections.map((p) => p.name);
    const unknown = names.filter((n) => !known.includes(n));
    if (unknown.length > 0) {
      say(`unknown projection(s): ${unknown.join(', ')} (known: ${known.join(', ')})`);
      return 2;
    }
    const ac = new AbortController();
    const onSigint = () => {
      say('interrupting after the current batch…');
      ac.abort();
    };
    process.on('SIGINT', onSigint);
    const tty = process.stderr.isTTY;
    let lastLine = 0;
    for (const projection of runtime.projections.filter((p) => names.length === 0 || names.includes(p.name))) {
      const result = await rebuildProjection({
        pool: runtime.pool, store: runtime.store, projection, schema: env.DATABASE_SCHEMA, signal: ac.signal, fresh: restart,
        onProgress: (p) => {
          if (tty) process.stderr.write(`\r\x1b[2K${formatProgress(p)}`);
          else if (Date.now() - lastLine > 2_000 || p.phase !== 'replaying') {
            lastLine = Date.now();
            process.stderr.write(`${formatProgress(p)}\n`);
          }
        },
      });
      if (tty) process.stderr.write('\n');
      if (result.phase === 'interrupted') {
        say(`${projection.name}: interrupted at ${result.done} events; run the same command again to resume`);
        return 130;
      }
      say(`${projection.name}: rebuilt from ${result.done.toLocaleString('en')} events and switched over`);
    }
    process.off('SIGINT', onSigint);
    return 0;
  } finally {
    await runtime.close();
  }
};

export const main = async (argv: string[]): Promise<number> => {
  const { positionals, values } = parseArgs({
    args: argv, allowPositionals: true, strict: false,
    options: {
      restart: { type: 'boolean' }, sub: { type: 'string' }, roles: { type: 'string' }, dept: { type: 'string' },
      region: { type: 'string' }, name: { type: 'string' }, ttl: { type: 'string' }, cases: { type: 'string' },
    },
  });
  const command = positionals[0];
  let env: Env;
  try {
    env = loadEnv();
  } catch (err) {
    if (err instanceof ConfigError) {
      say(err.message);
      return 2;
    }
    throw err;
  }
  switch (command) {
    case 'serve':
      await serve(env);
      return -1; // keeps running
    case 'migrate':
      await migrateOnly(env);
      return 0;
    case 'token': {
      const secret = await loadOrCreateSecret({ name: 'JWT_SECRET', value: env.JWT_SECRET, home: env.GOVCASE_HOME, production: env.NODE_ENV === 'production', bytes: 32, log: say });
      if (typeof values.sub !== 'string' || typeof values.roles !== 'string') {
        say('token needs --sub and --roles');
        return 2;
      }
      try {
        const jwt = await signToken(secret, {
          sub: values.sub, roles: values.roles.split(',').map((r) => r.trim()) as never, name: values.name as string | undefined,
          dept: values.dept as string | undefined, region: values.region as string | undefined,
        }, typeof values.ttl === 'string' ? values.ttl : '1h');
        process.stdout.write(`${jwt}\n`);
        return 0;
      } catch (err) {
        const issue = (err as { issues?: { path: unknown[]; message: string }[] }).issues?.[0];
        say(`invalid token claims: ${issue ? `${issue.path.join('.')}: ${issue.message}` : (err as Error).message}`);
        return 2;
      }
    }
    case 'seed': {
      const n = Number(values.cases ?? 1000);
      if (!Number.isInteger(n) || n < 0 || n > 1_000_000) {
        say('--cases must be a whole number from 0 to 1,000,000');
        return 2;
      }
      const runtime = await startRuntime(env, say);
      try {
        await seedDemo(runtime.deps, n, say);
      } finally {
        await runtime.close();
      }
      return 0;
    }
    case 'export':
      if (wantsGbt39046(argv)) return runExchangeExport(env, argv.slice(argv.indexOf('export') + 1));
      return runExport(env, argv.slice(argv.indexOf('export') + 1));
    case 'import':
      return runImport(env, argv.slice(argv.indexOf('import') + 1));
    case 'verify':
      return runVerify(env, argv.slice(argv.indexOf('verify') + 1));
    case 'checkpoints':
      return runCheckpoints(env, argv.slice(argv.indexOf('checkpoints') + 1));
    case 'public-key':
      return runPublicKey(env);
    case 'replay':
      return runReplay(env, argv.slice(argv.indexOf('replay') + 1));
    case 'rebuild':
      return rebuild(env, positionals.slice(1), values.restart === true);
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      say(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
};
