import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createPool } from '../../infrastructure/postgres/pool.ts';
import { tableNames } from '../../projections/projection.ts';
import { queryStatistics, type StatisticsFilter, type StatisticsParts, type StatisticsScope } from '../../projections/statistics/queries.ts';
import { createStatisticsProjection, STATISTICS_TABLES } from '../../projections/statistics/statisticsProjection.ts';
import { COUNTERS } from '../../projections/statistics/statsDelta.ts';
import { databaseUrl, dropSchemas, recreateSchema } from '../db.ts';
import { loadAverage, processTicks } from '../cpu.ts';

/**
 * Read-side benchmark of `queryStatistics`: fills the statistics tables with a synthetic province-year
 * (Guizhou-like: 9 prefectures, 88 counties, 40 departments per county, ~5 items per department, 365
 * days, sparse: busy departments most days, quiet ones seldom) straight in SQL, then measures
 * p50/p95 latency of a province-year (whole, without the ~17k items, totals only), a province range of
 * edge days + months, a prefecture-year and a department-month query.
 *
 *   npx tsx bench/readside/statistics.ts [--keep]     (DATABASE_URL or postgres://postgres@127.0.0.1:5432/test;
 *                                                     --keep leaves the schema for a profiler)
 *
 * Works in a schema of its own (`bench_readside_stats`), dropped at the end.
 */
export interface StatisticsBenchOptions {
  readonly databaseUrl?: string;
  readonly schema?: string;
  readonly year?: number;
  readonly departmentsPerCounty?: number;
  readonly itemsPerDepartment?: number;
  /** share of (item, day) cells with a row, for a quiet department; busy ones (1 in 8) have 8× more */
  readonly density?: number;
  readonly iterations?: number;
  readonly warmup?: number;
  readonly keepSchema?: boolean;
  readonly log?: (line: string) => void;
}

export interface LatencyFigures {
  readonly name: string;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly meanMs: number;
  /** CPU per query, ms: this process (pg parsing + the assembly in JS) and the pool's server backends (10 ms ticks, averaged) */
  readonly clientCpuMs: number;
  readonly serverCpuMs: number;
  readonly submitted: number;
}


export interface StatisticsBenchResult {
  readonly rows: { readonly daily: number; readonly monthly: number; readonly yearly: number; readonly dayRegion: number; readonly current: number; readonly names: number };
  readonly fillSeconds: number;
  readonly queries: readonly LatencyFigures[];
}

/** Guizhou's prefectures and how many county-level divisions each has (88 in all). */
const PREFECTURES: readonly [string, number][] = [
  ['5201', 10], ['5202', 4], ['5203', 14], ['5204', 6], ['5205', 8], ['5206', 10], ['5223', 8], ['5226', 16], ['5227', 12],
];

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

export const benchStatistics = async (options: StatisticsBenchOptions = {}): Promise<StatisticsBenchResult> => {
  const url = options.databaseUrl ?? databaseUrl();
  const schema = options.schema ?? 'bench_readside_stats';
  const year = options.year ?? 2025;
  const depts = options.departmentsPerCounty ?? 40;
  const itemsPer = options.itemsPerDepartment ?? 5;
  const density = options.density ?? 0.025;
  const iterations = options.iterations ?? 60;
  const warmup = options.warmup ?? 5;
  const log = options.log ?? ((line: string) => console.log(line));

  await recreateSchema(url, schema);
  const pool = createPool({ connectionString: url, schema, max: 4, statementTimeoutMillis: 600_000, applicationName: 'govcase-bench-readside' });
  try {
    // 1. the projection's own tables and indexes, then a synthetic year straight in SQL
    const t = tableNames('');
    const client = await pool.connect();
    const began = performance.now();
    try {
      await createStatisticsProjection().createTables(client, t);
      const counties = PREFECTURES.flatMap(([p, n]) => Array.from({ length: n }, (_, i) => `${p}${String(i + 2).padStart(2, '0')}`));
      await client.query('select setseed(0.42)');
      await client.query(
        `create temporary table bench_items as
           select c as region_code, c || '-D' || lpad(d::text, 2, '0') as department_code,
                  c || '-D' || lpad(d::text, 2, '0') || '-I' || i as item_code,
                  case when d % 8 = 1 then 8.0 else 1.0 end * $2::float8 as density
             from unnest($1::text[]) as c, generate_series(1, $3::int) as d, generate_series(1, $4::int) as i`,
        [counties, density, depts, itemsPer],
      );
      // counters that hang together: completed ≤ submitted-ish, on time ≤ completed, ratings from completions
      await client.query(
        `insert into stats_daily (day, region_code, department_code, item_code, submitted, accepted, rejected, withdrawn, correction_expired,
                                  completed, approved, denied, completed_on_time, working_days_sum, overdue, evaluations, score_sum,
                                  satisfied, bad_reviews, bad_reviews_rectified)
         select day, region_code, department_code, item_code, s, a, r, w, ce, c, c - dn, dn, ot, wd, od, ev, ev * 4 + sat - bad * 3, sat, bad, least(bad, rect)
           from (
             select day::date as day, region_code, department_code, item_code,
                    s, a, (random() < 0.05)::int as r, (random() < 0.03)::int as w, (random() < 0.01)::int as ce,
                    c, (random() * c * 0.1)::int as dn, greatest(0, c - (random() < 0.08)::int) as ot, c * (1 + (random() * 8)::int) as wd,
                    (random() < 0.02)::int as od, ev, (random() * ev * 0.9)::int as sat, (random() < 0.03)::int * least(ev, 1) as bad,
                    (random() < 0.7)::int as rect
               from (
                 select day, region_code, department_code, item_code,
                        1 + (random() * 6)::int as s, (random() * 6)::int as a, (random() * 6)::int as c, (random() * 3)::int as ev
                   from (
                     -- random() in the target list: a filter on it alone would be evaluated once per item, not per (item, day)
                     select day, region_code, department_code, item_code, density, random() as draw
                       from bench_items, generate_series(make_date($1, 1, 1), make_date($1, 12, 31), interval '1 day') as day
                   ) cell
                  where draw < density
               ) x
           ) y
         order by day, region_code, department_code, item_code`,
        [year],
      );
      // the rollups the projection keeps beside the daily rows, derived the same way
      const sums = COUNTERS.map((c) => `sum(${c})`).join(', ');
      await client.query(`insert into stats_monthly (month, region_code, department_code, item_code, ${COUNTERS.join(', ')})
        select date_trunc('month', day)::date, region_code, department_code, item_code, ${sums} from stats_daily group by 1, 2, 3, 4`);
      await client.query(`insert into stats_yearly (year, region_code, department_code, item_code, ${COUNTERS.join(', ')})
        select extract(year from day)::int, region_code, department_code, item_code, ${sums} from stats_daily group by 1, 2, 3, 4`);
      await client.query(`insert into stats_day_region (day, region_code, submitted, completed)
        select day, region_code, sum(submitted), sum(completed) from stats_daily group by 1, 2 having sum(submitted) > 0 or sum(completed) > 0`);
      await client.query(
        `insert into stats_current (status, region_code, department_code, item_code, n)
         select st, region_code, department_code, item_code, 1 + (random() * 20)::int
           from (select st, region_code, department_code, item_code, random() as draw
                   from bench_items, unnest(array['SUBMITTED', 'ACCEPTED', 'SUSPENDED', 'COMPLETED', 'DELIVERED', 'REJECTED', 'WITHDRAWN']) as st) cell
          where draw < case when st in ('ACCEPTED', 'DELIVERED') then 0.8 else 0.3 end`,
      );
      await client.query(
        `insert into stats_names (kind, key, name)
         select distinct 'department', department_code, department_code || ' 局' from bench_items
         union all
         select 'item', item_code, item_code || ' 许可' from bench_items`,
      );
      await client.query(`insert into stats_names_version (one, version) values (true, pg_current_xact_id()::text)`);
      await client.query('drop table bench_items');
    } finally {
      client.release();
    }
    for (const table of STATISTICS_TABLES) await pool.query(`vacuum analyze ${table}`);
    const fillSeconds = (performance.now() - began) / 1000;
    const count = async (table: string) => Number((await pool.query<{ n: string }>(`select count(*) as n from ${table}`)).rows[0]!.n);
    const rows = {
      daily: await count('stats_daily'), monthly: await count('stats_monthly'), yearly: await count('stats_yearly'),
      dayRegion: await count('stats_day_region'), current: await count('stats_current'), names: await count('stats_names'),
    };
    log(`machine: ${cpus().length} CPUs, load average ${loadAverage()} (figures are wall-clock, client included)`);
    log(`statistics bench: ${Object.entries(rows).map(([k, n]) => `${n.toLocaleString('en')} ${k}`).join(', ')} rows; filled in ${fillSeconds.toFixed(1)} s`);

    // 2. the queries
    const y = String(year);
    const provinceYear: StatisticsFilter = { regionCode: '520000', from: `${y}-01-01`, to: `${y}-12-31` };
    const cases: [string, StatisticsFilter, StatisticsScope, StatisticsParts?][] = [
      ['province-year (520000, auditor)', provinceYear, 'all'],
      ['province-year without byItem', provinceYear, 'all', { byItem: false }],
      ['province-year, totals only', provinceYear, 'all', { byDay: false, byDepartment: false, byItem: false }],
      ['province, Jan 15 - Nov 20 (days+months)', { regionCode: '520000', from: `${y}-01-15`, to: `${y}-11-20` }, 'all'],
      ['prefecture-year (520100, its supervisor)', { regionCode: '520100', from: `${y}-01-01`, to: `${y}-12-31` }, { regionCode: '520100' }],
      ['department-month (520102-D01, its clerk)', { from: `${y}-03-01`, to: `${y}-03-31` }, { departmentCode: '520102-D01' }],
      ['quiet department-month (520102-D07)', { departmentCode: '520102-D07', from: `${y}-03-01`, to: `${y}-03-31` }, 'all'],
    ];
    const queries: LatencyFigures[] = [];
    // the pool's server processes: open all four now, so the CPU of every query is counted
    const held = await Promise.all(Array.from({ length: 4 }, () => pool.connect()));
    const pids = held.map((c) => (c as unknown as { processID: number }).processID);
    for (const c of held) c.release();
    for (const [name, filter, scope, parts] of cases) {
      let last = await queryStatistics(pool, filter, scope, parts);
      for (let i = 1; i < warmup; i++) last = await queryStatistics(pool, filter, scope, parts);
      const ms: number[] = [];
      const cpu0 = process.cpuUsage();
      const ticks0 = processTicks(pids);
      for (let i = 0; i < iterations; i++) {
        const t0 = performance.now();
        last = await queryStatistics(pool, filter, scope, parts);
        ms.push(performance.now() - t0);
      }
      const cpu = process.cpuUsage(cpu0);
      const serverCpuMs = ((processTicks(pids) - ticks0) * 10) / iterations;
      ms.sort((a, b) => a - b);
      const fig = {
        name, p50Ms: percentile(ms, 50), p95Ms: percentile(ms, 95), meanMs: ms.reduce((a, b) => a + b, 0) / ms.length,
        clientCpuMs: (cpu.user + cpu.system) / 1000 / iterations, serverCpuMs, submitted: last.submitted,
      };
      queries.push(fig);
      log(`  ${name.padEnd(42)} p50 ${fig.p50Ms.toFixed(1).padStart(7)} ms   p95 ${fig.p95Ms.toFixed(1).padStart(7)} ms   ` +
        `CPU/query: client ${fig.clientCpuMs.toFixed(1).padStart(5)} ms, server ${fig.serverCpuMs.toFixed(1).padStart(5)} ms   ` +
        `(submitted ${last.submitted.toLocaleString('en')}; byDay ${last.byDay.length}, byDepartment ${last.byDepartment.length}, byItem ${last.byItem.length})`);
    }
    log(`load average ${loadAverage()} at the end`);
    return { rows, fillSeconds, queries };
  } finally {
    await pool.end().catch(() => {});
    if (!options.keepSchema) await dropSchemas(url, [schema]);
  }
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchStatistics({ keepSchema: process.argv.includes('--keep') }).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
