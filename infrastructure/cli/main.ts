import { parseArgs } from 'node:util';
import { buildServer } from '../../graphql/server.ts';
import { ConfigError, loadEnv, type Env } from '../config.ts';
import { startRuntime } from '../runtime.ts';

const USAGE = `usage: govcase <command> [options]

commands:
  serve      start the API (what \`npm start\` runs)
  migrate    apply the schema migrations and exit

Configuration comes from the environment; see README.md.`;

const say = (msg: string) => process.stderr.write(`govcase: ${msg}\n`);

const serve = async (env: Env) => {
  const runtime = await startRuntime(env, say);
  const app = await buildServer({
    logLevel: env.LOG_LEVEL,
    health: { checkDatabase: async () => void (await runtime.pool.query('select 1')) },
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: shutting down`);
    const force = setTimeout(() => {
      say('shutdown took longer than 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    await app.close();
    await runtime.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  const address = await app.listen({ port: env.PORT, host: env.HOST });
  say(`serving at ${address} (database: ${runtime.embedded ? `embedded, ${runtime.databaseUrl.replace(/:[^:@/]*@/, ':***@')}` : 'DATABASE_URL'})`);
};

const migrateOnly = async (env: Env) => {
  const runtime = await startRuntime(env, say);
  await runtime.close();
};

export const main = async (argv: string[]): Promise<number> => {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: false });
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
