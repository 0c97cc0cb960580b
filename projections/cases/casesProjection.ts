import type pg from 'pg';
import type { RecordedEvent } from '../../application/eventStore.ts';
import type { ExistingCase } from '../../domain/case/state.ts';
import type { Projection } from '../projection.ts';
import { caseColumns, evolveCaseRow, type CaseRow } from './caseRow.ts';

/** The `cases` read model: one row per case, the folded state as jsonb plus the columns queries filter on. */
export const createCasesProjection = (options: { readonly blindIndex: (idNumber: string) => string }): Projection => ({
  name: 'cases',
  tables: ['cases'],
  async createTables(db, t) {
    const c = t('cases');
    await db.query(`
      create table if not exists ${c} (
        case_id         uuid primary key,
        case_number     text not null,
        version         integer not null,
        status          text not null,
        item_code       text not null,
        department_code text not null,
        region_code     text not null,
        channel         text not null,
        submitted_at    timestamptz not null,
        deadline        date,
        warning_from    date,
        clock_running   boolean not null,
        owner_id        text,
        applicant_index text,
        erased          boolean not null,
        state           jsonb not null,
        position        text not null
      );
      create unique index if not exists ${c}_case_number_key on ${c} (case_number);
      create index if not exists ${c}_submitted_idx on ${c} (submitted_at desc, case_id desc);
      create index if not exists ${c}_dept_idx on ${c} (department_code, submitted_at desc, case_id desc);
      create index if not exists ${c}_region_idx on ${c} (region_code text_pattern_ops, submitted_at desc, case_id desc);
      create index if not exists ${c}_status_idx on ${c} (status, submitted_at desc, case_id desc);
      create index if not exists ${c}_item_idx on ${c} (item_code, submitted_at desc, case_id desc);
      create index if not exists ${c}_owner_idx on ${c} (owner_id, submitted_at desc) where owner_id is not null;
      create index if not exists ${c}_applicant_idx on ${c} (applicant_index) where applicant_index is not null;
      create index if not exists ${c}_deadline_idx on ${c} (deadline, warning_from) where clock_running;
      create index if not exists ${c}_dept_status_idx on ${c} (department_code, status, submitted_at desc, case_id desc);
      create index if not exists ${c}_open_deadline_idx on ${c} (deadline, case_id) where clock_running or status = 'SUSPENDED';
      create index if not exists ${c}_open_region_idx on ${c} (region_code text_pattern_ops, department_code, deadline, case_id) where clock_running or status = 'SUSPENDED';
      -- one row per case, rewritten on every event: vacuum once 1% of it changed or was inserted, not the default 20%
      alter table ${c} set (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);
    `);
  },
  async apply(db, events, t) {
    const c = t('cases');
    const ids = [...new Set(events.filter((e) => e.streamId.startsWith('case-')).map((e) => e.streamId.slice(5)))];
    if (ids.length === 0) return;
    const existing = await db.query<{ case_id: string; version: number; state: ExistingCase; position: string }>(
      `select case_id, version, state, position from ${c} where case_id = any($1::uuid[])`, [ids],
    );
    const rows = new Map<string, CaseRow | null>(existing.rows.map((r) => [r.case_id, { caseId: r.case_id, version: r.version, state: r.state, position: r.position }]));
    const changed = new Set<string>();
    for (const e of events as RecordedEvent[]) {
      if (!e.streamId.startsWith('case-')) continue;
      const id = e.streamId.slice(5);
      const before = rows.get(id) ?? null;
      const after = evolveCaseRow(before, e);
      if (after !== before) {
        rows.set(id, after);
        changed.add(id);
      }
    }
    const out = [...changed].map((id) => rows.get(id)).filter((r): r is CaseRow => r !== null && r !== undefined).map((r) => caseColumns(r, options.blindIndex));
    if (out.length === 0) return;
    await db.query(
      `insert into ${c} (case_id, case_number, version, status, item_code, department_code, region_code, channel, submitted_at,
                         deadline, warning_from, clock_running, owner_id, applicant_index, erased, state, position)
       select case_id, case_number, version, status, item_code, department_code, region_code, channel, submitted_at,
              deadline, warning_from, clock_running, owner_id, applicant_index, erased, state, position
         from jsonb_to_recordset($1::jsonb) as r(case_id uuid, case_number text, version int, status text, item_code text,
              department_code text, region_code text, channel text, submitted_at timestamptz, deadline date, warning_from date,
              clock_running boolean, owner_id text, applicant_index text, erased boolean, state jsonb, position text)
       on conflict (case_id) do update set
         case_number = excluded.case_number, version = excluded.version, status = excluded.status, item_code = excluded.item_code,
         department_code = excluded.department_code, region_code = excluded.region_code, channel = excluded.channel,
         submitted_at = excluded.submitted_at, deadline = excluded.deadline, warning_from = excluded.warning_from,
         clock_running = excluded.clock_running, owner_id = excluded.owner_id, applicant_index = excluded.applicant_index,
         erased = excluded.erased, state = excluded.state, position = excluded.position`,
      [JSON.stringify(out)],
    );
  },
});

export type CasesDb = pg.Pool | pg.ClientBase;
