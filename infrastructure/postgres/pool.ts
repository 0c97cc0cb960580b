import pg from 'pg';
import { GovcaseError, unavailable } from '../../domain/errors.ts';

export interface PoolOptions {
  readonly connectionString: string;
  /** A schema of its own (tests, side-by-side installs); created if missing. Default: public. */
  readonly schema?: string;
  readonly max?: number;
  readonly connectionTimeoutMillis?: number;
  readonly statementTimeoutMillis?: number;
  readonly applicationName?: string;
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A pg pool that fails fast when the database is away (a clear UNAVAILABLE, not a hang), never
 * lets a transaction idle (readers of the global log wait for the oldest open one), and puts every
 * connection in the given schema.
 */
export const createPool = (options: PoolOptions): pg.Pool => {
  const schema = options.schema ?? 'public';
  if (!SCHEMA_RE.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName ?? 'govcase',
    options: `-c search_path=${schema},public -c idle_in_transaction_session_timeout=10000 -c statement_timeout=${options.statementTimeoutMillis ?? 30_000}`,
  });
  // An idle client losing its connection must not crash the process; the next checkout reconnects.
  pool.on('error', () => {});
  // Nor a checked-out one: pg-pool listens for errors only while a client is idle, and a client
  // emits 'error' when its socket dies even while a query is running (the query rejects as well,
  // which is how the caller learns of it). Without this listener a database restart or a network
  // cut during any transaction kills the process (found by test/reliability). A dead client is
  // dropped from the pool when it is released (pg-pool checks `_queryable`).
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return pool;
};

export const ensureSchema = async (connectionString: string, schema: string): Promise<void> => {
  if (!SCHEMA_RE.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(`create schema if not exists ${schema}`);
  } finally {
    await client.end();
  }
};

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH']);

/** True for errors that mean "the database is not reachable now" rather than "this statement is wrong". */
export const isUnavailableError = (err: unknown): boolean => {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code;
  if (code && CONNECTION_CODES.has(code)) return true;
  // 08: connection exception; 57P01-03: admin shutdown, crash shutdown, cannot connect now; 53300: too many connections
  if (code && (/^08/.test(code) || /^57P0[123]$/.test(code) || code === '53300')) return true;
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error/i.test(err.message);
};

/** Retrying the same statement may succeed: deadlock, serialization failure. */
export const isTransientError = (err: unknown): boolean => {
  const code = (err as { code?: string } | undefined)?.code;
  return code === '40P01' || code === '40001';
};

export const toGovcaseError = (err: unknown, what: string): unknown => {
  if (err instanceof GovcaseError) return err;
  if (isUnavailableError(err)) return unavailable(`the database is unavailable (${what}): ${(err as Error).message}`, { cause: (err as { code?: string }).code });
  return err;
};

/** Runs `work` in a transaction on one pooled connection: commit when it resolves, rollback when it throws. */
export const inTransaction = async <T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
};
