import type { CaseStatus } from '../../domain/case/state.ts';
import type { Projection } from '../projection.ts';
import { COUNTERS, foldStatsPage, STATS_EVENT_TYPES, type CaseDims } from './statsDelta.ts';

/**
 * The `statistics` read model: pre-aggregated so that a province-wide year is a sum over daily rows,
 * never a scan of cases.
 * - `stats_daily` (day, region_code, department_code, item_code) → the counters of `COUNTERS`: each
 *   event on the China Standard Time day of its `occurredAt`, under the case's region and item and
 *   the department that held the case at that moment (a transfer moves later events, not earlier ones).
 * - `stats_monthly` (month, …) and `stats_yearly` (year, …): the same counters rolled up by calendar
 *   month (its first day) and year, so a long range sums whole years + whole months + edge days
 *   (a province-year is ~17k yearly rows instead of ~300k daily ones).
 * - `stats_day_region` (day, region_code) → submitted, completed: `byDay` when only regions are selected.
 * - `stats_current` (status, region_code, department_code, item_code) → how many cases are in that
 *   status now (for `inProgress` / `suspended`).
 * - `stats_case_dims` per case: region, department, item, status, last revision applied — the lookup
 *   that events without those fields (CaseDecided, …) are attributed through.
 * - `stats_names` (kind, key) → display names of departments and items, from the item snapshot in
 *   `CaseSubmitted` (the latest one seen wins); `stats_names_version` holds the id of the last
 *   transaction that changed one, so queries can cache the names (a rebuilt table has another).
 * One page: one read of the page's cases, one statement that upserts all seven tables, and (when a
 * snapshot count may have reached 0) one delete of the emptied snapshot rows.
 */
export const STATISTICS_TABLES = [
  'stats_daily', 'stats_monthly', 'stats_yearly', 'stats_day_region', 'stats_current', 'stats_case_dims', 'stats_names', 'stats_names_version',
] as const;

const counterColumns = COUNTERS.map((c) => `${c} integer not null default 0`).join(',\n        ');
const counterList = COUNTERS.join(', ');
const counterTypes = COUNTERS.map((c) => `${c} integer`).join(', ');

/** A CTE that adds a page's counters to one of the period tables (`stats_daily`, `stats_monthly`, `stats_yearly`). */
const periodUpsert = (name: string, table: string, col: string, type: string, param: number) => `${name} as (
         insert into ${table} as x (${col}, region_code, department_code, item_code, ${counterList})
         select ${col}, region_code, department_code, item_code, ${counterList}
           from jsonb_to_recordset($${param}::jsonb) as r(${col} ${type}, region_code text, department_code text, item_code text, ${counterTypes})
         on conflict (${col}, region_code, department_code, item_code) do update set
           ${COUNTERS.map((c) => `${c} = x.${c} + excluded.${c}`).join(', ')}
       )`;

export const createStatisticsProjection = (): Projection => ({
  name: 'statistics',
  tables: STATISTICS_TABLES,
  eventTypes: STATS_EVENT_TYPES,
  async createTables(db, t) {
    const current = t('stats_current');
    const dims = t('stats_case_dims');
    const names = t('stats_names');
    const dayRegion = t('stats_day_region');
    // the daily table and its two rollups: same columns but the period, same indexes
    for (const [table, period] of [[t('stats_daily'), 'day date'], [t('stats_monthly'), 'month date'], [t('stats_yearly'), 'year integer']] as const) {
      const col = period.split(' ')[0]!;
      await db.query(`
        create table if not exists ${table} (
          ${period}       not null,
          region_code     text not null,
          department_code text not null,
          item_code       text not null,
          ${counterColumns},
          primary key (${col}, region_code, department_code, item_code)
        );
        create index if not exists ${table}_region_idx on ${table} (region_code text_pattern_ops, ${col});
        create index if not exists ${table}_dept_idx on ${table} (department_code, ${col});
        create index if not exists ${table}_item_idx on ${table} (item_code, ${col});
      `);
    }
    await db.query(`
      create table if not exists ${dayRegion} (
        day         date not null,
        region_code text not null,
        submitted   integer not null default 0,
        completed   integer not null default 0,
        primary key (day, region_code)
      );
      create table if not exists ${current} (
        status          text not null,
        region_code     text not null,
        department_code text not null,
        item_code       text not null,
        n               integer not null,
        primary key (status, region_code, department_code, item_code)
      );
      create index if not exists ${current}_region_idx on ${current} (status, region_code text_pattern_ops);
      create index if not exists ${current}_dept_idx on ${current} (department_code, status);
      create index if not exists ${current}_item_idx on ${current} (item_code, status);
      create table if not exists ${dims} (
        case_id         uuid primary key,
        region_code     text not null,
        department_code text not null,
        item_code       text not null,
        status          text not null,
        version         integer not null
      );
      create table if not exists ${names} (
        kind text not null,
        key  text not null,
        name text not null,
        primary key (kind, key)
      );
      create table if not exists ${t('stats_names_version')} (
        one     boolean primary key default true check (one),
        version text not null
      );
    `);
  },
  async apply(db, events, t) {
    const ids = [...new Set(events.filter((e) => e.streamId.startsWith('case-')).map((e) => e.streamId.slice(5)))];
    if (ids.length === 0) return;
    const current = t('stats_current');
    const dims = t('stats_case_dims');
    const names = t('stats_names');
    const known = await db.query<{ case_id: string; region_code: string; department_code: string; item_code: string; status: CaseStatus; version: number }>(
      `select case_id, region_code, department_code, item_code, status, version from ${dims} where case_id = any($1::uuid[])`, [ids],
    );
    const page = foldStatsPage(
      new Map(known.rows.map((r): [string, CaseDims] => [r.case_id, {
        caseId: r.case_id, regionCode: r.region_code, departmentCode: r.department_code, itemCode: r.item_code, status: r.status, version: r.version,
      }])),
      events,
    );
    if (page.dims.length === 0) return;
    const dimsRows = page.dims.map((d) => ({
      case_id: d.caseId, region_code: d.regionCode, department_code: d.departmentCode, item_code: d.itemCode, status: d.status, version: d.version,
    }));
    // one statement, seven tables: data-modifying CTEs (each runs once, whether read or not; each touches its own table)
    await db.query(
      `with d as (
         insert into ${dims} as x (case_id, region_code, department_code, item_code, status, version)
         select case_id, region_code, department_code, item_code, status, version
           from jsonb_to_recordset($1::jsonb) as r(case_id uuid, region_code text, department_code text, item_code text, status text, version integer)
         on conflict (case_id) do update set
           department_code = excluded.department_code, status = excluded.status, version = excluded.version
       ), ${periodUpsert('s', t('stats_daily'), 'day', 'date', 2)}, ${periodUpsert('m', t('stats_monthly'), 'month', 'date', 5)},
       ${periodUpsert('y', t('stats_yearly'), 'year', 'integer', 6)}, dr as (
         insert into ${t('stats_day_region')} as x (day, region_code, submitted, completed)
         select day, region_code, submitted, completed
           from jsonb_to_recordset($7::jsonb) as r(day date, region_code text, submitted integer, completed integer)
         on conflict (day, region_code) do update set submitted = x.submitted + excluded.submitted, completed = x.completed + excluded.completed
       ), c as (
         insert into ${current} as x (status, region_code, department_code, item_code, n)
         select status, region_code, department_code, item_code, n
           from jsonb_to_recordset($3::jsonb) as r(status text, region_code text, department_code text, item_code text, n integer)
         on conflict (status, region_code, department_code, item_code) do update set n = x.n + excluded.n
       ), nm as (
         insert into ${names} as x (kind, key, name)
         select kind, key, name from jsonb_to_recordset($4::jsonb) as r(kind text, key text, name text)
         on conflict (kind, key) do update set name = excluded.name where x.name is distinct from excluded.name
         returning 1
       ), nv as (
         insert into ${t('stats_names_version')} as x (one, version)
         select true, pg_current_xact_id()::text where exists (select 1 from nm)
         on conflict (one) do update set version = excluded.version
       )
       select 1`,
      [JSON.stringify(dimsRows), JSON.stringify(page.daily), JSON.stringify(page.current), JSON.stringify(page.names),
        JSON.stringify(page.monthly), JSON.stringify(page.yearly), JSON.stringify(page.dayRegion)],
    );
    // a snapshot row whose count reached 0 goes, so the table holds the same rows however the log was paged
    const emptied = page.current.filter((r) => r.n < 0);
    if (emptied.length > 0)
      await db.query(
        `delete from ${current} x using jsonb_to_recordset($1::jsonb) as r(status text, region_code text, department_code text, item_code text)
          where x.n = 0 and x.status = r.status and x.region_code = r.region_code and x.department_code = r.department_code and x.item_code = r.item_code`,
        [JSON.stringify(emptied.map(({ n: _n, ...key }) => key))],
      );
  },
});
