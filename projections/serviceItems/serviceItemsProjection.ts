import type { RecordedEvent } from '../../application/eventStore.ts';
import type { ServiceItemEvent, ServiceItemRules } from '../../domain/serviceItem/serviceItem.ts';
import type { Projection } from '../projection.ts';

/**
 * The `service_items` read model: the current rules of each item (事项目录), with the stream revision
 * of its last publication as `version`. An older revision never overwrites a newer one, so replays
 * are harmless.
 */
export const SERVICE_ITEM_EVENT_TYPES = ['ServiceItemPublished', 'ServiceItemRevised'] as const;

export interface ServiceItemRow {
  readonly item_code: string;
  readonly department_code: string;
  readonly region_code: string;
  readonly version: number;
  readonly rules: ServiceItemRules;
}

/** The latest row per item in a page of events (pure). */
export const serviceItemRows = (events: readonly RecordedEvent[]): ServiceItemRow[] => {
  const latest = new Map<string, ServiceItemRow>();
  for (const e of events) {
    if (!e.streamId.startsWith('item-')) continue;
    if (e.type !== 'ServiceItemPublished' && e.type !== 'ServiceItemRevised') continue;
    const item = (e.data as ServiceItemEvent['data']).item;
    const before = latest.get(item.itemCode);
    if (before && before.version >= e.revision) continue;
    latest.set(item.itemCode, {
      item_code: item.itemCode, department_code: item.departmentCode, region_code: item.regionCode, version: e.revision, rules: item,
    });
  }
  return [...latest.values()];
};

export const createServiceItemsProjection = (): Projection => ({
  name: 'service_items',
  tables: ['service_items'],
  eventTypes: SERVICE_ITEM_EVENT_TYPES,
  async createTables(db, t) {
    const s = t('service_items');
    await db.query(`
      create table if not exists ${s} (
        item_code       text primary key,
        department_code text not null,
        region_code     text not null,
        version         integer not null,
        rules           jsonb not null
      );
      create index if not exists ${s}_region_idx on ${s} (region_code text_pattern_ops);
      create index if not exists ${s}_dept_idx on ${s} (department_code);
    `);
  },
  async apply(db, events, t) {
    const s = t('service_items');
    const rows = serviceItemRows(events);
    if (rows.length === 0) return;
    await db.query(
      `insert into ${s} (item_code, department_code, region_code, version, rules)
       select item_code, department_code, region_code, version, rules
         from jsonb_to_recordset($1::jsonb) as r(item_code text, department_code text, region_code text, version int, rules jsonb)
       on conflict (item_code) do update set
         department_code = excluded.department_code, region_code = excluded.region_code, version = excluded.version, rules = excluded.rules
       where ${s}.version < excluded.version`,
      [JSON.stringify(rows)],
    );
  },
});
