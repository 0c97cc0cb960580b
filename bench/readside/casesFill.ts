import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { createCasesProjection } from '../../projections/cases/casesProjection.ts';
import { tableNames } from '../../projections/projection.ts';
import { createSupervisionProjection } from '../../projections/supervision/supervisionProjection.ts';
import { recreateSchema } from '../db.ts';

/**
 * The synthetic `cases` read model of bench/readside/cases.ts, filled in SQL (generate_series): 88
 * counties of Guizhou, 40 departments, 400 items, statuses by age, with the projection's own DDL and
 * indexes, its `case_counts`, and 督办 notices on ~4 % of the open cases.
 */
/** Guizhou's 9 prefecture-level divisions and their county-level counts (88 in all). */
export const PREFECTURES: readonly (readonly [string, number])[] = [
  ['5201', 10], ['5202', 4], ['5203', 14], ['5204', 6], ['5205', 8], ['5206', 10], ['5223', 8], ['5226', 16], ['5227', 12],
];
export const COUNTIES = PREFECTURES.flatMap(([p, n]) => Array.from({ length: n }, (_, i) => `${p}${String(i + 2).padStart(2, '0')}`));
export const DEPARTMENTS = Array.from({ length: 40 }, (_, i) => `D${String(i + 1).padStart(2, '0')}`);


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

/** Fills schema `schema` (recreated) with `n` synthetic cases, the counts beside them and 督办 notices. */
export const fillCases = async (pool: pg.Pool, options: { readonly url: string; readonly schema: string; readonly n: number; readonly now: string; readonly start: string; readonly log: (msg: string) => void }) => {
  const { url: URL, schema: SCHEMA, n: N, now: NOW, start: START, log } = options;
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
