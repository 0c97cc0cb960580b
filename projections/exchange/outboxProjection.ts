import type pg from 'pg';
import type { RecordedEvent } from '../../application/eventStore.ts';
import { caseEventTypes, isCaseStream, type CaseEventType } from '../../domain/case/events.ts';
import { dataSetsOf, type DataSet } from '../../domain/exchange/mapping.ts';
import { deliveriesOf, type Target } from '../../domain/exchange/targets.ts';
import type { Projection } from '../projection.ts';

/**
 * The exchange outbox: for each case event, one row per (target, data set) it must reach, written by
 * the projection runner in the transaction that moves its checkpoint — so an event is queued exactly
 * once, whatever crashes. A row holds references only (case id, revision, data set): no personal
 * data. The dispatcher (infrastructure/exchange) builds the payload when it delivers, opening the
 * applicant through the vault then.
 *
 * The outbox is not a rebuildable read model: it has no suffixed copy (`tables` is empty), and a
 * replay inserts nothing twice (`on conflict (idempotency_key) do nothing`).
 */
export const OUTBOX_TABLE = 'exchange_outbox';

export interface OutboxRowInput {
  readonly idempotency_key: string;
  readonly target: Target;
  readonly case_id: string;
  readonly revision: number;
  readonly event_type: string;
  readonly data_set: DataSet;
  readonly position: string;
  readonly event_at: string;
}

export const idempotencyKey = (target: Target, caseId: string, revision: number, dataSet: DataSet) =>
  `${target}:${caseId}:${revision}:${dataSet}`;

const known = new Set<string>(caseEventTypes);

/** The outbox rows a page of events writes (pure). */
export const outboxRows = (events: readonly RecordedEvent[], enabled: readonly Target[]): OutboxRowInput[] => {
  const rows: OutboxRowInput[] = [];
  for (const e of events) {
    if (!isCaseStream(e.streamId) || !known.has(e.type)) continue;
    const caseId = e.streamId.slice('case-'.length);
    const type = e.type as CaseEventType;
    for (const d of deliveriesOf(type, dataSetsOf(type))) {
      if (!enabled.includes(d.target)) continue;
      rows.push({
        idempotency_key: idempotencyKey(d.target, caseId, e.revision, d.dataSet), target: d.target, case_id: caseId,
        revision: e.revision, event_type: type, data_set: d.dataSet, position: e.position, event_at: e.recordedAt,
      });
    }
  }
  return rows;
};

export const createOutboxTable = async (db: pg.ClientBase | pg.Pool) => {
  await db.query(`
    create table if not exists ${OUTBOX_TABLE} (
      id              bigserial primary key,
      idempotency_key text not null unique,
      target          text not null,
      case_id         uuid not null,
      revision        integer not null,
      event_type      text not null,
      data_set        text not null,
      position        text not null,
      event_at        timestamptz not null,
      created_at      timestamptz not null default now(),
      status          text not null default 'pending' check (status in ('pending', 'delivered', 'dead')),
      attempts        integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      delivered_at    timestamptz,
      last_error      text,
      duplicate       boolean not null default false,
      personal_data_erased boolean
    );
    create index if not exists ${OUTBOX_TABLE}_due_idx on ${OUTBOX_TABLE} (target, next_attempt_at, id) where status = 'pending';
    create index if not exists ${OUTBOX_TABLE}_open_idx on ${OUTBOX_TABLE} (target, case_id, id) where status <> 'delivered';
    create index if not exists ${OUTBOX_TABLE}_event_at_idx on ${OUTBOX_TABLE} (event_at);
  `);
};

export const createExchangeOutboxProjection = (options: { readonly targets: readonly Target[] }): Projection => ({
  name: 'exchange-outbox',
  tables: [],
  async createTables(db) {
    await createOutboxTable(db);
  },
  async apply(db, events) {
    const rows = outboxRows(events, options.targets);
    if (rows.length === 0) return;
    await db.query(
      `insert into ${OUTBOX_TABLE} (idempotency_key, target, case_id, revision, event_type, data_set, position, event_at)
       select idempotency_key, target, case_id, revision, event_type, data_set, position, event_at
         from jsonb_to_recordset($1::jsonb) as r(idempotency_key text, target text, case_id uuid, revision integer,
              event_type text, data_set text, position text, event_at timestamptz)
       on conflict (idempotency_key) do nothing`,
      [JSON.stringify(rows)],
    );
  },
});
