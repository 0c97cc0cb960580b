import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { createPool } from '../../infrastructure/postgres/pool.ts';
import {
  ALL_SCOPE, caseScopeFor, searchCases, type CaseFilter, type CaseScope, type CountMode, type Queryable,
} from '../../projections/cases/queries.ts';
import { searchSupervision } from '../../projections/supervision/queries.ts';
import { DEPARTMENTS, fillCases, PREFECTURES } from './casesFill.ts';
import { acquireRunLock, databaseUrl, dropSchemas, withClient } from '../db.ts';

/**
 * Read-side latency of the `cases` read model at scale: `npx tsx bench/readside/cases.ts [--cases N]`.
 * Fills a `cases` table (the projection's own DDL and indexes) in schema bench_readside with N synthetic
 * rows in SQL (generate_series: 88 counties of Guizhou, 40 departments, 400 items, statuses by age,
 * 2025-01-01 … today), ANALYZEs it, then times `searchCases` (first 20, with totalCount) for typical
 * filters and a supervision page, end to end through the real query functions.
 */
const USAGE = `usage: npx tsx bench/readside/cases.ts [options]

  --cases N      rows in the cases table (default 1000000)
  --runs N       timed calls per query after warm-up (default 200)
  --first N      page size of the case queries (default 20)
  --explain      print EXPLAIN (ANALYZE, BUFFERS) of one call of each query
  --shipped-only measure with the projection's indexes only (default: then again with the proposed ones)
  --churn        after VACUUM, update every case filed in the last 45 days once (hot rows whose pages
                 are not all-visible, as between two autovacuums of a live table)
  --keep         keep schema bench_readside (and reuse it next time when --cases matches)
  -h, --help

DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).`;

const { values: opts } = parseArgs({
  options: {
    cases: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '200' },
    first: { type: 'string', default: '20' },
    explain: { type: 'boolean', default: false },
    'shipped-only': { type: 'boolean', default: false },
    churn: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}
const N = Number(opts.cases);
const RUNS = Number(opts.runs);
const FIRST = Number(opts.first);
if (!Number.isInteger(N) || N < 1000 || !Number.isInteger(RUNS) || RUNS < 1 || !Number.isInteger(FIRST) || FIRST < 1 || FIRST > 100) {
  console.error(USAGE);
  process.exit(2);
}

const SCHEMA = 'bench_readside';
const URL = databaseUrl();
const TODAY = '2026-12-15';
const NOW = '2026-12-15T17:00:00+08:00';
const START = '2025-01-01T08:30:00+08:00';

const log = (msg: string) => console.error(`[readside] ${msg}`);

// ---------------------------------------------------------------------------------------------
// Measure
// ---------------------------------------------------------------------------------------------

interface Timed {
  total: number[];
  statements: number[][];
  counts: number[];
}

/** A pool that records each statement's latency (they run side by side) and the last statements' text. */
const timing = (pool: pg.Pool) => {
  let current: number[] = [];
  let last: { text: string; values: unknown[] }[] = [];
  const db: Queryable = {
    query: (async (text: string, values: unknown[]) => {
      const t0 = performance.now();
      last.push({ text, values });
      const res = await pool.query(text, values);
      current.push(performance.now() - t0);
      return res;
    }) as unknown as pg.Pool['query'],
  };
  return {
    db,
    reset: () => { current = []; last = []; },
    statements: () => current,
    lastStatements: () => last,
  };
};

const pct = (xs: readonly number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};
const ms = (x: number) => x.toFixed(1).padStart(7);

const measure = async (
  label: string,
  t: ReturnType<typeof timing>,
  call: (i: number) => Promise<{ totalCount: number | null }>,
  explain: boolean,
  pool: pg.Pool,
): Promise<Timed> => {
  for (let i = 0; i < Math.min(20, RUNS); i++) await call(i + 1_000_000); // warm-up
  const out: Timed = { total: [], statements: [], counts: [] };
  for (let i = 0; i < RUNS; i++) {
    t.reset();
    const t0 = performance.now();
    const r = await call(i);
    out.total.push(performance.now() - t0);
    out.statements.push([...t.statements()]);
    if (r.totalCount !== null) out.counts.push(r.totalCount);
  }
  if (explain) {
    t.reset();
    await call(0);
    for (const s of t.lastStatements()) {
      const plan = await pool.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${s.text}`, s.values);
      console.log(`\n--- ${label}\n${s.text.replace(/\s+/g, ' ').slice(0, 400)}\n${plan.rows.map((r) => r['QUERY PLAN']).join('\n')}`);
    }
  }
  return out;
};

const report = (rows: { label: string; timed: Timed; statementNames: string[] }[]) => {
  console.log(`\n${'query'.padEnd(58)}   p50 ms   p95 ms   max ms   avg totalCount   ${'per statement p50 / p95 ms'}`);
  for (const { label, timed, statementNames } of rows) {
    const per = statementNames.map((name, k) => {
      const xs = timed.statements.map((s) => s[k]).filter((x): x is number => x !== undefined);
      return xs.length ? `${name} ${pct(xs, 50).toFixed(1)} / ${pct(xs, 95).toFixed(1)}` : '';
    }).filter(Boolean).join(', ');
    const avgCount = timed.counts.length === 0 ? '—' : Math.round(timed.counts.reduce((a, b) => a + b, 0) / timed.counts.length).toLocaleString('en');
    console.log(`${label.padEnd(58)} ${ms(pct(timed.total, 50))}  ${ms(pct(timed.total, 95))}  ${ms(Math.max(...timed.total))}   ${avgCount.padStart(14)}   ${per}`);
  }
};

/** Indexes this benchmark suggests adding to the cases projection (see the report). */
const PROPOSED_INDEXES = [
  `create index if not exists cases_dept_status_idx on cases (department_code, status, submitted_at desc, case_id desc)`,
  `create index if not exists cases_open_deadline_idx on cases (deadline, case_id) where clock_running or status = 'SUSPENDED'`,
  `create index if not exists cases_open_region_idx on cases (region_code text_pattern_ops, department_code, deadline, case_id) where clock_running or status = 'SUSPENDED'`,
];
const PROPOSED_NAMES = ['cases_dept_status_idx', 'cases_open_deadline_idx', 'cases_open_region_idx'];

const main = async () => {
  const lock = await (async () => {
    for (let i = 0; ; i++) {
      try {
        return await acquireRunLock(URL);
      } catch (err) {
        if (i >= 60) throw err;
        if (i === 0) log('another benchmark holds the run lock; waiting for it');
        await new Promise((r) => setTimeout(r, 5_000));
      }
    }
  })();
  const pool = createPool({ connectionString: URL, schema: SCHEMA, max: 4, statementTimeoutMillis: 0 });
  try {
    const existing = await withClient(URL, async (c) => {
      const r = await c.query<{ n: string }>(`select case when to_regclass('${SCHEMA}.cases') is null then -1 else (select count(*) from ${SCHEMA}.cases) end::text as n`).catch(() => ({ rows: [{ n: '-1' }] }));
      return Number(r.rows[0]?.n ?? -1);
    });
    if (opts.keep && existing === N) {
      log(`reusing ${SCHEMA}.cases (${N.toLocaleString('en')} rows)`);
      for (const name of PROPOSED_NAMES) await pool.query(`drop index if exists ${name}`);
    } else await fillCases(pool, { url: URL, schema: SCHEMA, n: N, now: NOW, start: START, log });
    // the steady state of a table autovacuum looks after: statistics and the visibility map
    await pool.query('vacuum analyze cases');
    await pool.query('vacuum analyze supervision_notices');
    if (opts.churn) {
      const r = await pool.query(`update cases set version = version + 1 where submitted_at >= $1::timestamptz - interval '45 days'`, [NOW]);
      await pool.query('analyze cases');
      log(`churn: ${r.rowCount} recent cases updated after the vacuum`);
    }

    const stats = (await pool.query<{ rows: string; size: string; open: string }>(
      `select count(*)::text as rows, pg_size_pretty(pg_total_relation_size('cases')) as size,
              count(*) filter (where clock_running or status = 'SUSPENDED')::text as open from cases`)).rows[0]!;
    const applicants = (await pool.query<{ applicant_index: string }>(
      `select applicant_index from cases where applicant_index is not null order by md5(case_id::text) limit 500`)).rows.map((r) => r.applicant_index);
    const serverInfo = (await pool.query<{ v: string; sb: string; jit: string; wm: string }>(
      `select current_setting('server_version') as v, current_setting('shared_buffers') as sb, current_setting('jit') as jit, current_setting('work_mem') as wm`)).rows[0]!;
    console.log(`cases: ${Number(stats.rows).toLocaleString('en')} rows, ${stats.size} with indexes; open (clock running or suspended): ${Number(stats.open).toLocaleString('en')}`);
    console.log(`PostgreSQL ${serverInfo.v}, shared_buffers ${serverInfo.sb}, work_mem ${serverInfo.wm}, jit ${serverInfo.jit}; today = ${TODAY}; ${RUNS} timed calls per query, first: ${FIRST}`);

    const t = timing(pool);
    const prefectures = PREFECTURES.map(([p]) => `${p}00`);
    const from30 = new Date(Date.parse(`${TODAY}T00:00:00+08:00`) - 30 * 86_400_000).toISOString();
    const search = (filter: CaseFilter, scope: CaseScope, count?: CountMode) => searchCases(t.db, { filter, scope, first: FIRST, today: TODAY, count });
    const clerkOf = (dept: string) => caseScopeFor({ id: 'clerk', roles: ['clerk'], departmentCode: dept });
    const supervisorOf = (region: string) => caseScopeFor({ id: 'sup', roles: ['supervisor'], regionCode: region });

    const scenarios: { label: string; call: (i: number) => Promise<{ totalCount: number | null }>; names: string[] }[] = [
      {
        label: 'department open cases (status ACCEPTED), clerk scope',
        call: (i) => search({ departmentCode: DEPARTMENTS[i % DEPARTMENTS.length]!, status: ['ACCEPTED'] }, clerkOf(DEPARTMENTS[i % DEPARTMENTS.length]!)),
        names: ['page', 'count'],
      },
      {
        label: 'department D01 (busiest) open cases, clerk scope',
        call: () => search({ departmentCode: 'D01', status: ['ACCEPTED'] }, clerkOf('D01')),
        names: ['page', 'count'],
      },
      {
        label: 'prefecture (all 9 in turn) last 30 days, supervisor scope',
        call: (i) => search({ regionCode: prefectures[i % prefectures.length]!, submittedFrom: from30 }, supervisorOf('520000')),
        names: ['page', 'count'],
      },
      {
        label: 'prefecture 520100 (Guiyang) last 30 days, supervisor',
        call: () => search({ regionCode: '520100', submittedFrom: from30 }, supervisorOf('520100')),
        names: ['page', 'count'],
      },
      {
        label: 'applicant by applicantIndex, all scope',
        call: (i) => search({ applicantIndex: applicants[i % applicants.length]! }, ALL_SCOPE),
        names: ['page', 'count'],
      },
      {
        label: 'all cases (no filter), auditor',
        call: () => search({}, ALL_SCOPE),
        names: ['page', 'count'],
      },
      {
        label: 'all cases (no filter), auditor, count atMost 1000',
        call: () => search({}, ALL_SCOPE, { atMost: 1000 }),
        names: ['page', 'count'],
      },
      {
        label: 'department D01 open cases, count atMost 1000',
        call: () => search({ departmentCode: 'D01', status: ['ACCEPTED'] }, clerkOf('D01'), { atMost: 1000 }),
        names: ['page', 'count'],
      },
      {
        label: 'prefecture 520100 last 30 days, count atMost 1000',
        call: () => search({ regionCode: '520100', submittedFrom: from30 }, supervisorOf('520100'), { atMost: 1000 }),
        names: ['page', 'count'],
      },
      {
        label: 'prefecture 520100 last 30 days, count skipped',
        call: () => search({ regionCode: '520100', submittedFrom: from30 }, supervisorOf('520100'), 'skip'),
        names: ['page'],
      },
      {
        label: 'supervision page (first 50), prefecture in turn',
        call: (i) => searchSupervision(t.db, { filter: { regionCode: prefectures[i % prefectures.length]! }, scope: supervisorOf('520000'), first: 50, today: TODAY }),
        names: ['page', 'count', 'notices'],
      },
      {
        label: 'supervision page (first 50), 520100 (Guiyang)',
        call: () => searchSupervision(t.db, { filter: { regionCode: '520100' }, scope: supervisorOf('520100'), first: 50, today: TODAY }),
        names: ['page', 'count', 'notices'],
      },
    ];
    const run = async (title: string) => {
      console.log(`\n== ${title}`);
      const results = [];
      for (const s of scenarios) {
        log(`measuring: ${s.label}`);
        results.push({ label: s.label, timed: await measure(s.label, t, s.call, opts.explain, pool), statementNames: s.names });
      }
      report(results);
    };
    await run('indexes as the cases projection creates them');
    if (!opts['shipped-only']) {
      const t0 = performance.now();
      for (const ddl of PROPOSED_INDEXES) await pool.query(ddl);
      if (!opts.churn) await pool.query('vacuum analyze cases');
      else await pool.query('analyze cases');
      log(`proposed indexes built (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
      await run(`with the proposed indexes:\n   ${PROPOSED_INDEXES.join(';\n   ')}`);
    }
  } finally {
    await pool.end();
    if (!opts.keep) await dropSchemas(URL, [SCHEMA]);
    await lock.release();
  }
};

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
