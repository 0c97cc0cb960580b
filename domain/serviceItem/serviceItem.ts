import { z } from 'zod';
import { invalidTransition, validationFailed } from '../errors.ts';

/** 政务服务事项: the rules a case copies into `CaseSubmitted`, so replay never depends on today's catalogue. */
export const CaseTypeSchema = z.enum(['IMMEDIATE', 'PROMISED']);
export type CaseType = z.infer<typeof CaseTypeSchema>;

export const MaterialRuleSchema = z.object({
  name: z.string().trim().min(1).max(200),
  required: z.boolean().default(true),
  copies: z.number().int().min(0).max(100).optional(),
});
export type MaterialRule = z.infer<typeof MaterialRuleSchema>;

const code = (max: number) => z.string().trim().min(1).max(max).regex(/^[0-9A-Za-z._-]+$/, 'letters, digits, . _ - only');

export const ServiceItemRulesSchema = z
  .object({
    itemCode: code(24),
    name: z.string().trim().min(1).max(200),
    itemType: z.string().regex(/^\d{2}$/, 'a two-digit GB/T 39046 item type code'),
    departmentCode: code(64),
    departmentName: z.string().trim().min(1).max(200),
    regionCode: z.string().regex(/^\d{6}$/, 'a 6-digit GB/T 2260 region code'),
    caseType: CaseTypeSchema,
    legalLimitDays: z.number().int().min(0).max(365),
    promisedLimitDays: z.number().int().min(0).max(365),
    steps: z.array(z.string().trim().min(1).max(50)).min(1).max(20).default(['承办', '审核', '批准']),
    materials: z.array(MaterialRuleSchema).max(100).default([]),
    correctionLimitDays: z.number().int().min(1).max(60).default(5),
    rectificationLimitDays: z.number().int().min(1).max(60).default(5),
    /** Warn when at most this percentage of the working days (and at least one day) remains. */
    warningThresholdPercent: z.number().int().min(1).max(100).default(20),
    /** form fields that hold personal data: sealed with the applicant's fields, never stored readable */
    personalFields: z.array(z.string().trim().min(1).max(64)).max(50).optional(),
    /** National exchange (GB/T 39046): 基本编码 of the catalogue item (catalog_code). */
    basicCode: code(40).optional(),
    /** 实施编码 (an..24, task_code); the item code when omitted. */
    implementationCode: code(24).optional(),
    /** 业务办理项编码 (task_handle_item). */
    handlingItemCode: code(50).optional(),
    /** 受理单位统一社会信用代码 (18 characters, GB 32100). */
    departmentCreditCode: z.string().regex(/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/, 'an 18-character unified social credit code').optional(),
  })
  .superRefine((item, ctx) => {
    if (item.promisedLimitDays > item.legalLimitDays)
      ctx.addIssue({ code: 'custom', path: ['promisedLimitDays'], message: 'must not exceed legalLimitDays' });
    if (new Set(item.steps).size !== item.steps.length)
      ctx.addIssue({ code: 'custom', path: ['steps'], message: 'step names must be unique' });
    if (item.caseType === 'PROMISED' && item.promisedLimitDays < 1)
      ctx.addIssue({ code: 'custom', path: ['promisedLimitDays'], message: 'a promised case needs at least one day' });
  });
export type ServiceItemRules = z.infer<typeof ServiceItemRulesSchema>;

export type ServiceItemEvent =
  | { readonly type: 'ServiceItemPublished'; readonly data: { readonly item: ServiceItemRules } }
  | { readonly type: 'ServiceItemRevised'; readonly data: { readonly item: ServiceItemRules; readonly changed: readonly string[] } };

export type ServiceItemState =
  | { readonly status: 'NONE' }
  | { readonly status: 'PUBLISHED'; readonly item: ServiceItemRules; readonly revision: number };

export type ServiceItemCommand = { readonly type: 'PublishServiceItem'; readonly data: { readonly item: ServiceItemRules } };

export const initialServiceItemState = (): ServiceItemState => ({ status: 'NONE' });

export const serviceItemStreamId = (itemCode: string) => `item-${itemCode}`;

/** Publishing an item that exists revises it; publishing the same rules again changes nothing. */
export const decideServiceItem = (command: ServiceItemCommand, state: ServiceItemState): ServiceItemEvent[] => {
  const { item } = command.data;
  if (state.status === 'NONE') return [{ type: 'ServiceItemPublished', data: { item } }];
  if (state.item.itemCode !== item.itemCode)
    throw validationFailed('itemCode', 'the item code of a published item cannot change');
  const changed = (Object.keys(item) as (keyof ServiceItemRules)[]).filter(
    (k) => JSON.stringify(item[k]) !== JSON.stringify(state.item[k]),
  );
  if (changed.length === 0) return [];
  if (changed.includes('regionCode'))
    throw invalidTransition('the region of a published item cannot change; publish a new item code', { changed });
  return [{ type: 'ServiceItemRevised', data: { item, changed } }];
};

export const evolveServiceItem = (state: ServiceItemState, event: ServiceItemEvent): ServiceItemState => {
  switch (event.type) {
    case 'ServiceItemPublished':
      return { status: 'PUBLISHED', item: event.data.item, revision: 1 };
    case 'ServiceItemRevised':
      return state.status === 'PUBLISHED'
        ? { status: 'PUBLISHED', item: event.data.item, revision: state.revision + 1 }
        : { status: 'PUBLISHED', item: event.data.item, revision: 1 };
    default: {
      const never: never = event;
      return never;
    }
  }
};
