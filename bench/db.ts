import pg from 'pg';

/** Database housekeeping for the benchmark: schemas of its own, all named `bench_*`. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

export const databaseUrl = (): string => process.env.DATABASE_URL || DEFAULT_DATABASE_URL;

export const SCHEMA_PREFIX = 'bench_';
const SCHEMA_RE = /^bench_[a-z0-9_]{1,50}$/;

export const assertBenchSchema = (schema: string): void => {
  if (!SCHEMA_RE.test(schema)) throw new Error(`not a benchmark schema name: ${schema}`);
};

/** Runs `fn` on a short-lived connection of its own (never one of a measured pool). */
export const withClient = async <T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> => {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, application_name: 'govcase-bench-admin' });
  c.on('error', () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
};

/** Drops the schemas (if they exist), waiting at most `lockTimeoutMs` for each one's locks. */
export const dropSchemas = async (url: string, schemas: readonly string[], lockTimeoutMs = 15_000): Promise<void> => {
  if (schemas.length === 0) return;
  schemas.forEach(assertBenchSchema);
  await withClient(url, async (c) => {
    await c.query(`set lock_timeout = ${Math.floor(lockTimeoutMs)}`);
    for (const s of schemas) await c.query(`drop schema if exists ${s} cascade`);
  });
};

/** A fresh, empty schema: dropped first if a previous (interrupted) run left it behind. */
export const recreateSchema = async (url: string, schema: string): Promise<void> => {
  assertBenchSchema(schema);
  await withClient(url, async (c) => {
    await c.query('set lock_timeout = 15000');
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.query(`create schema ${schema}`);
  });
};

export const schemaExists = (url: string, schema: string): Promise<boolean> =>
  withClient(url, async (c) => (await c.query('select 1 from pg_namespace where nspname = $1', [schema])).rowCount === 1);

/** Rows in `schema.table`, or null if there is no such table. */
export const countRows = (url: string, schema: string, table: string): Promise<number | null> =>
  withClient(url, async (c) => {
    assertBenchSchema(schema);
    const exists = await c.query<{ t: string | null }>('select to_regclass($1)::text as t', [`${schema}.${table}`]);
    if (!exists.rows[0]?.t) return null;
    const res = await c.query<{ n: string }>(`select count(*)::text as n from ${schema}.${table}`);
    return Number(res.rows[0]!.n);
  });

/** Schemas other than `except` that hold a function of this name. */
export const schemasWithFunction = (url: string, fn: string, except: string): Promise<string[]> =>
  withClient(url, async (c) => {
    const res = await c.query<{ nspname: string }>(
      `select distinct n.nspname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where p.proname = $1 and n.nspname <> $2 order by 1`,
      [fn, except],
    );
    return res.rows.map((r) => r.nspname);
  });

/** One benchmark run per database at a time: a session-level advisory lock held by the orchestrator. */
export const BENCH_LOCK_KEY = 0x6276_6263; // 'bvbc'

export const acquireRunLock = async (url: string): Promise<{ release(): Promise<void> }> => {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, application_name: 'govcase-bench-lock' });
  c.on('error', () => {});
  await c.connect();
  const res = await c.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [BENCH_LOCK_KEY]);
  if (!res.rows[0]?.ok) {
    await c.end().catch(() => {});
    throw new Error('another benchmark run holds this database (advisory lock); wait for it to finish');
  }
  return {
    async release() {
      await c.query('select pg_advisory_unlock($1)', [BENCH_LOCK_KEY]).catch(() => {});
      await c.end().catch(() => {});
    },
  };
};
