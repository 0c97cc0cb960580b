import type pg from 'pg';
import type { RecordedEvent } from '../../application/eventStore.ts';
import type { ExistingCase } from '../../domain/case/state.ts';
import type { Projection, ReplaySession, TableNames } from '../projection.ts';
import { caseColumns, evolveCaseRow, type CaseRow } from './caseRow.ts';

/** The columns `case_counts` counts cases by: every `CaseFilter` condition it can answer. */
const COUNT_KEY = 'department_code, region_code, item_code, status';

/** Rows per upsert statement: keeps the JSON parameter a few MB however many rows a rebuild flushes. */
const WRITE_CHUNK = 2_000;

const caseIdsOf = (events: readonly RecordedEvent[]) =>
  [...new Set(events.filter((e) => e.streamId.startsWith('case-')).map((e) => e.streamId.slice(5)))];

/** The rows of these cases as stored (absent: not stored yet). */
const loadRows = async (db: pg.Pool | pg.ClientBase, c: string, ids: readonly string[], into: Map<string, CaseRow | null>) => {
  if (ids.length === 0) return;
  const existing = await db.query<{ case_id: string; version: number; state: ExistingCase; position: string }>(
    `select case_id, version, state, position from ${c} where case_id = any($1::uuid[])`, [ids],
  );
  for (const r of existing.rows) into.set(r.case_id, { caseId: r.case_id, version: r.version, state: r.state, position: r.position });
};

/** Folds the events into `rows` (case id → row), adding every case whose row changed to `changed`. */
const foldInto = (rows: Map<string, CaseRow | null>, changed: Set<string>, events: readonly RecordedEvent[]) => {
  for (const e of events) {
    if (!e.streamId.startsWith('case-')) continue;
    const id = e.streamId.slice(5);
    const before = rows.get(id) ?? null;
    const after = evolveCaseRow(before, e);
    if (after !== before) {
      rows.set(id, after);
      changed.add(id);
    }
  }
};

/**
 * Upserts the rows and, in the same statement, moves the `case_counts` they leave and enter: the old
 * rows are read in the statement's snapshot (before the upsert), the new ones come back from it.
 */
const writeRows = async (db: pg.ClientBase, t: TableNames, rows: readonly CaseRow[], blindIndex: (idNumber: string) => string) => {
  const c = t('cases');
  for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
    const out = rows.slice(i, i + WRITE_CHUNK).map((r) => caseColumns(r, blindIndex));
    const counted = await db.query<{ department_code: string; region_code: string; item_code: string; status: string; n: string }>(
      `with input as (select * from jsonb_to_recordset($1::jsonb) as r(case_id uuid, case_number text, version int, status text, item_code text,
              department_code text, region_code text, channel text, submitted_at timestamptz, deadline date, warning_from date,
              clock_running boolean, owner_id text, applicant_index text, erased boolean, state jsonb, position text)),
       old as (select ${COUNT_KEY} from ${c} where case_id in (select case_id from input)),
       up as (
       insert into ${c} (case_id, case_number, version, status, item_code, department_code, region_code, channel, submitted_at,
                         deadline, warning_from, clock_running, owner_id, applicant_index, erased, state, position)
       select case_id, case_number, version, status, item_code, department_code, region_code, channel, submitted_at,
              deadline, warning_from, clock_running, owner_id, applicant_index, erased, state, position
         from input
       on conflict (case_id) do update set
         case_number = excluded.case_number, version = excluded.version, status = excluded.status, item_code = excluded.item_code,
         department_code = excluded.department_code, region_code = excluded.region_code, channel = excluded.channel,
         submitted_at = excluded.submitted_at, deadline = excluded.deadline, warning_from = excluded.warning_from,
         clock_running = excluded.clock_running, owner_id = excluded.owner_id, applicant_index = excluded.applicant_index,
         erased = excluded.erased, state = excluded.state, position = excluded.position
       returning ${COUNT_KEY}),
       delta as (select ${COUNT_KEY}, sum(n)::bigint as n
                   from (select *, 1 as n from up union all select *, -1 as n from old) x
                  group by ${COUNT_KEY} having sum(n) <> 0)
       insert into ${t('case_counts')} (${COUNT_KEY}, n) select ${COUNT_KEY}, n from delta
       on conflict (${COUNT_KEY}) do update set n = ${t('case_counts')}.n + excluded.n
       returning ${COUNT_KEY}, n`,
      [JSON.stringify(out)],
    );
    // a count that reached 0 goes (the table holds what a rebuild from zero would hold, nothing more)
    const emptied = counted.rows.filter((r) => Number(r.n) === 0);
    if (emptied.length > 0)
      await db.query(
        `delete from ${t('case_counts')} where n = 0 and (${COUNT_KEY}) in (select * from unnest($1::text[], $2::text[], $3::text[], $4::text[]))`,
        [emptied.map((r) => r.department_code), emptied.map((r) => r.region_code), emptied.map((r) => r.item_code), emptied.map((r) => r.status)],
      );
  }
};

const changedRows = (rows: Map<string, CaseRow | null>, changed: Set<string>) =>
  [...changed].map((id) => rows.get(id)).filter((r): r is CaseRow => r !== null && r !== undefined);

/**
 * The `cases` read model: one row per case, the folded state as jsonb plus the columns queries filter on.
 * Live, a page is one read of its cases' rows, the fold, one upsert. A rebuild (`replay`) folds many
 * pages in memory and writes each changed case once per flush: a case's events lie far apart in the
 * log, so page by page it would be rewritten several times.
 */
export const createCasesProjection = (options: { readonly blindIndex: (idNumber: string) => string }): Projection => ({
  name: 'cases',
  tables: ['cases', 'case_counts'],
  async createTables(db, t, opts) {
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
      -- one row per case, rewritten on every event: vacuum once 1% of it changed or was inserted, not the default 20%
      alter table ${c} set (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);
    `);
    // how many cases per (department, region, item, status): an exact `totalCount` for filters on those
    // columns without counting case rows (queries.ts); kept by every write of `cases`, in its statement
    const n = t('case_counts');
    const created = (await db.query<{ t: string | null }>('select to_regclass($1)::text as t', [n])).rows[0]?.t === null;
    await db.query(`
      create table if not exists ${n} (
        department_code text not null,
        region_code     text not null,
        item_code       text not null,
        status          text not null,
        n               bigint not null,
        primary key (department_code, region_code, item_code, status)
      );
      alter table ${n} set (autovacuum_vacuum_scale_factor = 0.01);
    `);
    // a read model from before the counts: count it once
    if (created) await db.query(`insert into ${n} (${COUNT_KEY}, n) select ${COUNT_KEY}, count(*) from ${c} group by ${COUNT_KEY}`);
    if (opts?.deferIndexes) return;
    await db.query(`
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
    `);
  },
  async apply(db, events, t) {
    const c = t('cases');
    const ids = caseIdsOf(events);
    if (ids.length === 0) return;
    const rows = new Map<string, CaseRow | null>();
    await loadRows(db, c, ids, rows);
    const changed = new Set<string>();
    foldInto(rows, changed, events);
    const out = changedRows(rows, changed);
    if (out.length > 0) await writeRows(db, t, out, options.blindIndex);
  },
  replay(t: TableNames): ReplaySession {
    const c = t('cases');
    // the cases held, as folded so far (null: not created yet), and when each was last touched
    const rows = new Map<string, CaseRow | null>();
    const touched = new Map<string, number>();
    let clock = 0;
    let changed = new Set<string>();
    return {
      get size() {
        return changed.size;
      },
      async fold(db, events) {
        const missing = new Set<string>();
        const fresh = new Set<string>();
        for (const e of events) {
          if (!e.streamId.startsWith('case-')) continue;
          const id = e.streamId.slice(5);
          touched.set(id, ++clock);
          if (rows.has(id) || missing.has(id) || fresh.has(id)) continue;
          // the stream's first event is past the rebuild's checkpoint: no row can hold anything of it yet
          (e.revision === 0 ? fresh : missing).add(id);
        }
        await loadRows(db, c, [...missing], rows);
        for (const id of [...missing, ...fresh]) if (!rows.has(id)) rows.set(id, null);
        foldInto(rows, changed, events);
      },
      flush(db, keep = 0) {
        // taken now, before any await: what folds next belongs to the next flush
        const out = changedRows(rows, changed);
        const writing = changed;
        changed = new Set();
        // forget all but the `keep` rows touched last, except those being written now: the previous
        // flush has committed, so what it wrote can be read back, but this one's rows must stay until it commits
        const clean = [...rows.keys()].filter((id) => !writing.has(id));
        if (clean.length > keep) {
          clean.sort((a, b) => touched.get(b)! - touched.get(a)!);
          for (const id of clean.slice(keep)) {
            rows.delete(id);
            touched.delete(id);
          }
        }
        return out.length > 0 ? writeRows(db, t, out, options.blindIndex) : Promise.resolve();
      },
    };
  },
});

export type CasesDb = pg.Pool | pg.ClientBase;
