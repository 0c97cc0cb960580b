import { validationFailed } from '../../domain/errors.ts';
import { isRegionCode, regionPrefix } from '../../domain/region.ts';
import type { ServiceItemRules } from '../../domain/serviceItem/serviceItem.ts';
import type { Queryable } from '../cases/queries.ts';

/** The catalogue (事项目录) as the read model holds it: the item's current rules and its version. */
export type ServiceItemView = ServiceItemRules & { readonly version: number };

export interface ServiceItemFilter {
  /** a 6-digit GB/T 2260 code; covers the regions under it (520100: every 5201xx) */
  readonly regionCode?: string | null | undefined;
  readonly departmentCode?: string | null | undefined;
}

const view = (r: { rules: ServiceItemRules; version: number }): ServiceItemView => ({ ...r.rules, version: r.version });

/** Items in a region (by GB/T 2260 prefix) and/or of a department, by item code. */
export const listServiceItems = async (db: Queryable, filter: ServiceItemFilter = {}): Promise<ServiceItemView[]> => {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.regionCode !== null && filter.regionCode !== undefined) {
    if (!isRegionCode(filter.regionCode)) throw validationFailed('regionCode', 'must be a 6-digit GB/T 2260 region code', { value: filter.regionCode });
    params.push(`${regionPrefix(filter.regionCode)}%`);
    where.push(`region_code like $${params.length}`);
  }
  if (filter.departmentCode !== null && filter.departmentCode !== undefined) {
    params.push(filter.departmentCode);
    where.push(`department_code = $${params.length}`);
  }
  const res = await db.query<{ rules: ServiceItemRules; version: number }>(
    `select rules, version from service_items${where.length > 0 ? ` where ${where.join(' and ')}` : ''} order by item_code`,
    params,
  );
  return res.rows.map(view);
};

export const getServiceItem = async (db: Queryable, itemCode: string): Promise<ServiceItemView | null> => {
  const res = await db.query<{ rules: ServiceItemRules; version: number }>('select rules, version from service_items where item_code = $1', [itemCode]);
  const row = res.rows[0];
  return row ? view(row) : null;
};
