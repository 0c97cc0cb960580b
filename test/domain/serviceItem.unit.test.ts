import { describe, it, expect } from 'vitest';
import {
  decideServiceItem, evolveServiceItem, initialServiceItemState, ServiceItemRulesSchema, serviceItemStreamId,
  type ServiceItemCommand, type ServiceItemEvent, type ServiceItemRules, type ServiceItemState,
} from '../../domain/serviceItem/serviceItem.ts';
import { expectCode, serviceItem } from '../support/givenWhenThen.ts';

const publish = (item: ServiceItemRules): ServiceItemCommand => ({ type: 'PublishServiceItem', data: { item } });
const foldItem = (events: readonly ServiceItemEvent[]): ServiceItemState => events.reduce(evolveServiceItem, initialServiceItemState());

const published = foldItem([{ type: 'ServiceItemPublished', data: { item: serviceItem() } }]);

describe('ServiceItemRulesSchema', () => {
  const raw = {
    itemCode: '520102-XK-00001-001', name: '食品经营许可证核发', itemType: '01', departmentCode: '11520102MB1234567X',
    departmentName: '贵阳市南明区市场监督管理局', regionCode: '520102', caseType: 'PROMISED', legalLimitDays: 20, promisedLimitDays: 10,
  };

  it('fills the defaults of domain.md', () => {
    expect(ServiceItemRulesSchema.parse(raw)).toEqual({
      ...raw, steps: ['承办', '审核', '批准'], materials: [], correctionLimitDays: 5, rectificationLimitDays: 5, warningThresholdPercent: 20,
    });
    expect(ServiceItemRulesSchema.parse({ ...raw, materials: [{ name: '申请书' }] }).materials).toEqual([{ name: '申请书', required: true }]);
  });

  it('refuses a promised limit over the legal one', () => {
    expect(ServiceItemRulesSchema.safeParse({ ...raw, promisedLimitDays: 21 }).success).toBe(false);
    expect(ServiceItemRulesSchema.safeParse({ ...raw, promisedLimitDays: 20 }).success).toBe(true);
    expect(() => serviceItem({ promisedLimitDays: 25 })).toThrow();
  });

  it('refuses a promised case without a day, repeated steps, a bad region or item type code', () => {
    expect(ServiceItemRulesSchema.safeParse({ ...raw, promisedLimitDays: 0 }).success).toBe(false);
    expect(ServiceItemRulesSchema.safeParse({ ...raw, caseType: 'IMMEDIATE', promisedLimitDays: 0 }).success).toBe(true);
    expect(ServiceItemRulesSchema.safeParse({ ...raw, steps: ['承办', '审核', '承办'] }).success).toBe(false);
    expect(ServiceItemRulesSchema.safeParse({ ...raw, steps: [] }).success).toBe(false);
    expect(ServiceItemRulesSchema.safeParse({ ...raw, regionCode: '5201' }).success).toBe(false);
    expect(ServiceItemRulesSchema.safeParse({ ...raw, itemType: '1' }).success).toBe(false);
    expect(ServiceItemRulesSchema.safeParse({ ...raw, itemCode: 'x'.repeat(25) }).success).toBe(false);
  });
});

describe('decideServiceItem', () => {
  it('publishes a new item', () => {
    expect(decideServiceItem(publish(serviceItem()), initialServiceItemState())).toEqual([
      { type: 'ServiceItemPublished', data: { item: serviceItem() } },
    ]);
    expect(published).toEqual({ status: 'PUBLISHED', item: serviceItem(), revision: 1 });
    expect(serviceItemStreamId('520102-XK-00001-001')).toBe('item-520102-XK-00001-001');
  });

  it('revises a published item, naming the fields that changed', () => {
    const revised = serviceItem({ promisedLimitDays: 7, name: '食品经营许可证核发（新办）' });
    const events = decideServiceItem(publish(revised), published);
    expect(events).toEqual([{ type: 'ServiceItemRevised', data: { item: revised, changed: ['name', 'promisedLimitDays'] } }]);
    expect(foldItem([{ type: 'ServiceItemPublished', data: { item: serviceItem() } }, ...events])).toEqual({
      status: 'PUBLISHED', item: revised, revision: 2,
    });
  });

  it('sees a change inside the materials and the steps', () => {
    const revised = serviceItem({ steps: ['承办', '批准'], materials: [{ name: '食品经营许可申请书', required: true, copies: 2 }] });
    expect(decideServiceItem(publish(revised), published)).toEqual([
      { type: 'ServiceItemRevised', data: { item: revised, changed: ['steps', 'materials'] } },
    ]);
  });

  it('decides nothing for the same rules again', () => {
    expect(decideServiceItem(publish(serviceItem()), published)).toEqual([]);
  });

  it('refuses a region change (publish a new item code instead)', () => {
    expectCode(() => decideServiceItem(publish(serviceItem({ regionCode: '520103' })), published), 'INVALID_TRANSITION');
    expectCode(() => decideServiceItem(publish(serviceItem({ regionCode: '520103', promisedLimitDays: 5 })), published), 'INVALID_TRANSITION');
  });

  it('refuses another item code on this stream', () => {
    expectCode(() => decideServiceItem(publish(serviceItem({ itemCode: '520102-XK-00001-002' })), published), 'VALIDATION_FAILED');
  });

  it('counts revisions', () => {
    const a = serviceItem({ promisedLimitDays: 9 });
    const b = serviceItem({ promisedLimitDays: 8 });
    const state = foldItem([
      { type: 'ServiceItemPublished', data: { item: serviceItem() } },
      { type: 'ServiceItemRevised', data: { item: a, changed: ['promisedLimitDays'] } },
      { type: 'ServiceItemRevised', data: { item: b, changed: ['promisedLimitDays'] } },
    ]);
    expect(state).toEqual({ status: 'PUBLISHED', item: b, revision: 3 });
  });
});
