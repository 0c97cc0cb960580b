import { z } from 'zod';

/** The environment, validated at boot: a bad value stops the boot with a message naming it. */
const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .min(1)
    .refine((v) => protocols.some((p) => v.startsWith(`${p}://`)), `must start with ${protocols.map((p) => `${p}://`).join(' or ')}`)
    .optional();

export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: optionalUrl(['postgres', 'postgresql']),
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).default('public'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20),
  REDIS_URL: optionalUrl(['redis', 'rediss']),
  EVENT_STORE: z.enum(['postgres', 'eventstoredb']).default('postgres'),
  EVENTSTORE_URL: optionalUrl(['esdb', 'esdb+discover', 'kurrentdb', 'kurrentdb+discover', 'kurrent']),
  GOVCASE_HOME: z.string().min(1).default('.govcase'),
  JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  JWT_PUBLIC_KEY: z.string().includes('BEGIN PUBLIC KEY', { message: 'a PEM public key' }).optional(),
  RATE_LIMIT_MAX: z.coerce.number().int().min(0).max(1_000_000).default(1_200),
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
  // load shedding (graphql/underPressure.ts): past any of these, 503 + Retry-After; 0 turns one off
  UNDER_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  /** unset: 90 % of the V8 heap limit */
  UNDER_PRESSURE_MAX_HEAP_MB: z.coerce.number().int().min(0).max(1_048_576).optional(),
  UNDER_PRESSURE_MAX_RSS_MB: z.coerce.number().int().min(0).max(1_048_576).default(0),
  UNDER_PRESSURE_MAX_EVENT_LOOP_UTILIZATION: z.coerce.number().min(0).max(1).default(0),
  UNDER_PRESSURE_RETRY_AFTER_S: z.coerce.number().int().min(1).max(3_600).default(5),
  GOVCASE_MASTER_KEY: z.string().regex(/^[0-9a-fA-F]{32}$/, '32 hex characters').optional(),
  DEADLINE_CLOCK: z.enum(['on', 'off']).default('on'),
  // how long a submission may use a service item's rules read earlier (0: read them every time)
  SERVICE_ITEM_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  // cases whose state the write side remembers between commands (application/caseCache.ts; 0: none)
  CASE_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  DEADLINE_CLOCK_INTERVAL_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(60_000),
  GOVCASE_SIGNING_KEY: z.string().regex(/^[0-9a-fA-F]{64}$/, '64 hex characters (an SM2 private key)').optional(),
  GOVCASE_SIGNING_KEY_FILE: z.string().min(1).optional(),
  INTEGRITY_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(5_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** national exchange (docs/exchange.md): the front-end exchange database and the 好差评 hub */
  EXCHANGE_DB_URL: optionalUrl(['mysql', 'mariadb']),
  HAOCHAPING_URL: optionalUrl(['https', 'http']),
  HAOCHAPING_SIGNING_KEY: z.string().regex(/^[0-9a-fA-F]{64}$/, 'an SM2 private key, 64 hex characters').optional(),
  HAOCHAPING_APP_CODE: z.string().trim().min(1).max(64).default('govcase'),
  EXCHANGE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1_000).default(12),
  EXCHANGE_BATCH_SIZE: z.coerce.number().int().min(1).max(5_000).default(500),
  EXCHANGE_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(2_000),
  EXCHANGE_RETRY_MAX_MS: z.coerce.number().int().min(10).max(86_400_000).default(3_600_000),
}).superRefine((env, ctx) => {
  if (env.EVENT_STORE === 'eventstoredb' && !env.EVENTSTORE_URL)
    ctx.addIssue({ code: 'custom', path: ['EVENTSTORE_URL'], message: 'required when EVENT_STORE=eventstoredb' });
  if (env.HAOCHAPING_URL && !env.HAOCHAPING_SIGNING_KEY)
    ctx.addIssue({ code: 'custom', path: ['HAOCHAPING_SIGNING_KEY'], message: 'required when HAOCHAPING_URL is set' });
  if (env.HAOCHAPING_URL?.startsWith('http://') && env.NODE_ENV === 'production')
    ctx.addIssue({ code: 'custom', path: ['HAOCHAPING_URL'], message: 'must be https:// in production' });
});

export type Env = z.infer<typeof EnvSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const loadEnv = (source: NodeJS.ProcessEnv = process.env): Env => {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = EnvSchema.safeParse(cleaned);
  if (!result.success) throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`));
  return result.data;
};
