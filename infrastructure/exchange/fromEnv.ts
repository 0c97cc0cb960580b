import type { EventStore } from '../../application/eventStore.ts';
import type { PersonalDataVault } from '../../application/personalData.ts';
import type { Target } from '../../domain/exchange/targets.ts';
import type { Env } from '../config.ts';
import type { Dispatcher } from './dispatcher.ts';
import type { TargetAdapter } from './types.ts';

/** The national exchange targets the environment configures (none: no outbox, no dispatcher). */
export const configuredExchangeTargets = (env: Env): Target[] => [
  ...(env.EXCHANGE_DB_URL ? ['exchange_db' as const] : []),
  ...(env.HAOCHAPING_URL ? ['haochaping' as const] : []),
];

/**
 * The dispatcher for the configured targets, or null when none is configured. Not started. The
 * adapters and their drivers (mysql2, SM2) are loaded only when a target is configured: a server
 * without the exchange does not carry them (~30 MB of RSS).
 */
export const createExchangeFromEnv = async (options: {
  readonly env: Env;
  readonly databaseUrl: string;
  readonly store: EventStore;
  readonly vault: Pick<PersonalDataVault, 'open'>;
  readonly log: (msg: string) => void;
}): Promise<Dispatcher | null> => {
  const { env } = options;
  if (configuredExchangeTargets(env).length === 0) return null;
  const [{ createDispatcher }, { createExchangeDbAdapter }, { createHaochapingAdapter }, { openWithVault }] = await Promise.all([
    import('./dispatcher.ts'), import('./exchangeDb.ts'), import('./haochaping.ts'), import('./payloads.ts'),
  ]);
  const adapters: TargetAdapter[] = [];
  if (env.EXCHANGE_DB_URL) adapters.push(createExchangeDbAdapter({ url: env.EXCHANGE_DB_URL, dataSource: env.HAOCHAPING_APP_CODE }));
  if (env.HAOCHAPING_URL && env.HAOCHAPING_SIGNING_KEY)
    adapters.push(createHaochapingAdapter({ url: env.HAOCHAPING_URL, signingKey: env.HAOCHAPING_SIGNING_KEY, appCode: env.HAOCHAPING_APP_CODE, dataSource: env.HAOCHAPING_APP_CODE }));
  if (adapters.length === 0) return null;
  return createDispatcher({
    connectionString: options.databaseUrl, schema: env.DATABASE_SCHEMA, store: options.store, adapters,
    openApplicant: openWithVault(options.vault), batchSize: env.EXCHANGE_BATCH_SIZE, maxAttempts: env.EXCHANGE_MAX_ATTEMPTS,
    retryBaseMs: env.EXCHANGE_RETRY_BASE_MS, retryMaxMs: env.EXCHANGE_RETRY_MAX_MS, log: options.log,
  });
};
