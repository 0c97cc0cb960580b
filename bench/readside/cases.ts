import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { createPool } from '../../infrastructure/postgres/pool.ts';
import { createCasesProjection } from '../../projections/cases/casesProjection.ts';
import {
  ALL_SCOPE, caseScopeFor, searchCases, type CaseFilter, type CaseScope, type CountMode, type Queryable,
} from '../../projections/cases/queries.ts';
import { tableNames } from '../../projections/projection.ts';
import { searchSupervision } from '../../projections/supervision/queries.ts';
import { createSupervisionProjection } from '../../projections/supervision/supervisionProjection.ts';
import { acquireRunLock, databaseUrl, dropSchemas, recreateSchema, withClient } from '../db.ts';

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

/** Guizhou's 9 prefecture-level divisions and their county-level counts (88 in all). */
const PREFECTURES: readonly (readonly [string, number])[] = [
  ['5201', 10], ['5202', 4], ['5203', 14], ['5204', 6], ['5205', 8], ['5206', 10], ['5223', 8], ['5226', 16], ['5227', 12],
];
const COUNTIES = PREFECTURES.flatMap(([p, n]) => Array.from({ length: n }, (_, i) => `${p}${String(i + 2).padStart(2, '0')}`));
const DEPARTMENTS = Array.from({ length: 40 }, (_, i) => `D${String(i + 1).padStart(2, '0')}`);

const log = (msg: string) => console.error(`[readside] ${msg}`);

// ---------------------------------------------------------------------------------------------
// Fill
// ---------------------------------------------------------------------------------------------

/** One batch of rows [from, to], all in SQL. Skewed: busy counties first (Guiyang), busy departments first. */
const FILL_SQL = `
insert into cases (case_id, case_number, version, status, item_code, department_code, region_code, channel, submitted_at,
                   deadline, warning_from, clock_running, owner_id, applicant_index, erased, state, position)
select case_id, case_number, version, status, item_code, department_code, region_code, channel, submitted_at,
       deadline, warning_from, status = 'ACCEPTED', owner_id, 'idx:' || md5(id_number), false,
       jsonb_build_object(
         'caseId', case_id, 'caseNumber', case_number, 'status', status,
         'item', jsonb_build_object('itemCode', item_code, 'name', '事项' || item_code, 'itemType', '01', 'departmentCode', department_code,
                   'departmentName', department_code || ' 局', 'regionCode', region_code, 'caseType', case_type, 'legalLimitDays', 20,
                   'promisedLimitDays', limit_days, 'steps', jsonb_build_array('承办', '审核', '批准'),
                   'materials', jsonb_build_array(jsonb_build_object('name', '申请书', 'required', true), jsonb_build_object('name', '身份证明', 'required', true),
                                                  jsonb_build_object('name', '营业执照', 'required', false)),
                   'correctionLimitDays', 5, 'rectificationLimitDays', 5, 'warningThresholdPercent', 20),
         'departmentCode', department_code, 'regionCode', region_code,
         'applicant', jsonb_build_object('name', '申请人' || applicant, 'idType', '111', 'idNumber', id_number, 'phone', '139' || lpad(applicant::text, 8, '0'),
                        'address', '贵州省某市某区某路' || (applicant % 997) || '号'),
         'applicantErased', false, 'ownerId', owner_id, 'channel', channel,
         'materials', jsonb_build_array(jsonb_build_object('name', '申请书', 'provided', true), jsonb_build_object('name', '身份证明', 'provided', true)),
         'submittedAt', to_char(submitted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         'correctionRequested', status = 'CORRECTION_REQUESTED', 'notices', '[]'::jsonb)
       || case when deadline is not null then jsonb_build_object('clock', jsonb_build_object(
            'acceptedAt', to_char(accepted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'acceptedOn', (accepted_at at time zone 'Asia/Shanghai')::date,
            'caseType', case_type, 'limitDays', limit_days, 'extensionDays', 0, 'pausedDays', 0, 'deadline', deadline,
            'warningRaised', false, 'exceededRaised', false)) else '{}'::jsonb end
       || case when status in ('ACCEPTED', 'SUSPENDED') then jsonb_build_object('stepIndex', step_index) else '{}'::jsonb end
       || case when status = 'SUSPENDED' then jsonb_build_object('suspension', jsonb_build_object('procedure', 'EXPERT_REVIEW',
            'suspendedOn', (accepted_at at time zone 'Asia/Shanghai')::date + 2, 'suspendedAt', accepted_at + interval '2 days')) else '{}'::jsonb end
       || case when status in ('COMPLETED', 'DELIVERED') then jsonb_build_object('decision', jsonb_build_object('outcome', case when u3 < 0.9 then 'APPROVED' else 'DENIED' end,
            'decidedAt', accepted_at + interval '3 days', 'decidedOn', (accepted_at at time zone 'Asia/Shanghai')::date + 3, 'onTime', u3 < 0.97)) else '{}'::jsonb end
       || case when status = 'DELIVERED' then jsonb_build_object('delivery', jsonb_build_object('method', 'WINDOW', 'deliveredAt', accepted_at + interval '5 days', 'onTime', true)) else '{}'::jsonb end
       || case when status = 'CORRECTION_REQUESTED' then jsonb_build_object('correction', jsonb_build_object('requestedAt', submitted_at + interval '1 hour',
            'missing', jsonb_build_array('营业执照'), 'deadline', (submitted_at at time zone 'Asia/Shanghai')::date + 7)) else '{}'::jsonb end
       || case when status = 'REJECTED' then jsonb_build_object('rejectedAt', submitted_at + interval '1 day', 'reason', '不符合受理条件') else '{}'::jsonb end
       || case when status = 'WITHDRAWN' then jsonb_build_object('withdrawnAt', submitted_at + interval '1 day', 'fromStatus', 'SUBMITTED') else '{}'::jsonb end
       || case when status = 'CORRECTION_EXPIRED' then jsonb_build_object('expiredAt', submitted_at + interval '8 days') else '{}'::jsonb end,
       '0:' || n
  from (
    select g.*, s.status,
           case when s.status in ('ACCEPTED', 'SUSPENDED', 'COMPLETED', 'DELIVERED')
                then (g.accepted_at at time zone 'Asia/Shanghai')::date + ceil(g.limit_days * 1.4)::int end as deadline,
           case when s.status = 'ACCEPTED' and g.limit_days > 0
                then (g.accepted_at at time zone 'Asia/Shanghai')::date + ceil(g.limit_days * 1.4)::int - ceil(greatest(1, g.limit_days * 0.2) * 1.4)::int + 1 end as warning_from,
           case when s.status in ('ACCEPTED', 'SUSPENDED', 'COMPLETED', 'DELIVERED') then 3 + floor(g.u3 * 4)::int else 1 end as version
      from (
        select n, case_id, region_code, department_code, item_code, channel, submitted_at, applicant, owner_id, u1, u2, u3,
               region_code || '-' || to_char(submitted_at at time zone 'Asia/Shanghai', 'YYYYMMDD') || '-' || lpad(n::text, 8, '0') as case_number,
               region_code || '19' || lpad((applicant % 100000000)::text, 8, '0') || lpad((applicant % 97)::text, 2, '0') as id_number,
               case when item_no = 0 then 'IMMEDIATE' else 'PROMISED' end as case_type,
               case when item_no = 0 then 0 else 5 + (item_no * 3) % 16 end as limit_days,
               floor(u3 * 3)::int as step_index,
               submitted_at + (interval '1 hour' * (2 + u2 * 40)) as accepted_at,
               extract(epoch from ($4::timestamptz - submitted_at)) / 86400 as age_days
          from (
            select n, md5('case' || n)::uuid as case_id,
                   ($3::text[])[1 + least(87, floor(88 * power(random(), 1.7))::int)] as region_code,
                   'D' || lpad((1 + least(39, floor(40 * power(random(), 1.5))::int))::text, 2, '0') as dept,
                   floor(random() * 10)::int as item_no,
                   (array['WINDOW', 'PC', 'MOBILE', 'MOBILE', 'PC', 'EXPRESS'])[1 + floor(random() * 6)::int] as channel,
                   $5::timestamptz + (random() * extract(epoch from ($4::timestamptz - $5::timestamptz))) * interval '1 second' as submitted_at,
                   floor(random() * 400000)::int as applicant,
                   random() as u0, random() as u1, random() as u2, random() as u3
              from generate_series($1::int, $2::int) as n
          ) r
          cross join lateral (select r.dept as department_code, 'ITEM-' || r.dept || '-' || r.item_no as item_code,
                                     case when r.u0 < 0.7 then 'u' || floor(r.u0 * 428571)::int end as owner_id) d
      ) g
      cross join lateral (
        select case
          when g.u1 < case when g.age_days <= 20 then 0.7 when g.age_days <= 45 then 0.3 when g.age_days <= 90 then 0.05 else 0.008 end then
            case when g.u2 < 0.08 then 'SUBMITTED' when g.u2 < 0.13 then 'CORRECTION_REQUESTED' when g.u2 < 0.93 then 'ACCEPTED' else 'SUSPENDED' end
          else
            case when g.u2 < 0.06 then 'REJECTED' when g.u2 < 0.10 then 'WITHDRAWN' when g.u2 < 0.12 then 'CORRECTION_EXPIRED' when g.u2 < 0.25 then 'COMPLETED' else 'DELIVERED' end
        end as status
      ) s
  ) x`;

const fill = async (pool: pg.Pool) => {
  await recreateSchema(URL, SCHEMA);
  const client = await pool.connect();
  try {
    const t = tableNames('');
    await createCasesProjection({ blindIndex: (id) => id }).createTables(client, t);
    await createSupervisionProjection().createTables(client, t);
    // load without the indexes, then build the projection's own indexes once
    const idx = await client.query<{ indexname: string; indexdef: string }>(
      `select indexname, indexdef from pg_indexes where schemaname = $1 and tablename = 'cases' and indexname <> 'cases_pkey'`, [SCHEMA]);
    for (const i of idx.rows) await client.query(`drop index ${i.indexname}`);
    await client.query(`set synchronous_commit = off; set maintenance_work_mem = '512MB'; set statement_timeout = 0`);
    const began = performance.now();
    const batch = 100_000;
    for (let from = 1; from <= N; from += batch) {
      const to = Math.min(N, from + batch - 1);
      await client.query(FILL_SQL, [from, to, COUNTIES, NOW, START]);
      log(`filled ${to.toLocaleString('en')} / ${N.toLocaleString('en')} (${((performance.now() - began) / 1000).toFixed(0)} s)`);
    }
    for (const i of idx.rows) await client.query(i.indexdef);
    log(`indexes built (${((performance.now() - began) / 1000).toFixed(0)} s)`);
    // the counts the projection keeps beside the rows (totalCount reads them for filters on their columns)
    const key = 'department_code, region_code, item_code, status';
    await client.query(`truncate case_counts; insert into case_counts (${key}, n) select ${key}, count(*) from cases group by ${key}`);
    // 督办 notices on ~4% of the open cases, some answered
    await client.query(`
      insert into supervision_notices (notice_id, case_id, content, issued_at, reply_by, answer, answered_at, on_time)
      select md5('notice' || case_id || k)::uuid::text, case_id, '请加快办理', now() - interval '3 days', current_date + 2,
             case when k = 1 then '已加快' end, case when k = 1 then now() - interval '1 day' end, case when k = 1 then true end
        from cases cross join generate_series(1, 2) k
       where (clock_running or status = 'SUSPENDED') and random() < 0.04`);
    log(`notices added (${((performance.now() - began) / 1000).toFixed(0)} s)`);
  } finally {
    client.release();
  }
};

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
    } else await fill(pool);
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
