import type { CaseType } from '../serviceItem/serviceItem.ts';
import type { Channel, DeliveryMethod, SpecialProcedure } from '../case/events.ts';

/**
 * The code lists of GB/T 39046-2020 (appendix A) and of the 好差评 hub, and the date formats each
 * target wants. Everything here is data; where two targets disagree, each gets its own function.
 */

/** A.5 办理形式 / 申报来源 */
export const channelCode: Readonly<Record<Channel, '1' | '2' | '3' | '4' | '9'>> = {
  WINDOW: '1', PC: '2', MOBILE: '3', EXPRESS: '4', OTHER: '9',
};

/** A.6 办件类型: 1 即办件, 2 承诺件 (9 其他 is never produced: every item is one of the two). */
export const caseTypeCode = (t: CaseType): '1' | '2' => (t === 'IMMEDIATE' ? '1' : '2');

/** 好差评 promiseTime: 1 即办, 2 承诺 (no "other"). */
export const hubPromiseTime = (t: CaseType): 1 | 2 => (t === 'IMMEDIATE' ? 1 : 2);

/** 好差评 promiseType: 0 天 1 工作日 2 月 3 年; govcase limits are working days. */
export const HUB_PROMISE_TYPE_WORKING_DAYS = 1;

/** A.4 服务对象: 1 自然人 2 企业法人 3 事业法人 4 社会组织法人 5 行政机关 6 其他组织. */
export const serviceObjectCode = (kind: string | undefined): '1' | '2' | '3' | '4' | '5' | '6' => {
  if (kind === undefined || kind === '') return '1';
  if (/^[1-6]$/.test(kind)) return kind as '1' | '2' | '3' | '4' | '5' | '6';
  const k = kind.toUpperCase();
  if (k === 'PERSON' || k === 'NATURAL' || kind === '自然人') return '1';
  if (k === 'ENTERPRISE' || k === 'LEGAL' || k === 'COMPANY' || kind === '法人' || kind === '企业法人') return '2';
  if (k === 'INSTITUTION' || kind === '事业法人' || kind === '事业单位') return '3';
  if (k === 'SOCIAL_ORGANISATION' || k === 'SOCIAL_ORGANIZATION' || kind === '社会组织法人' || kind === '社会组织') return '4';
  if (k === 'GOVERNMENT' || kind === '行政机关') return '5';
  return '6';
};

/** 好差评 userProp follows A.4's numbering (1 自然人 2 企业法人 …). */
export const hubUserProp = (kind: string | undefined): number => Number(serviceObjectCode(kind));

/** A.7 特别程序: 1 延长审批, 2 其他 (every suspension procedure is "其他", named). */
export const SPECIAL_EXTENSION = { code: '1', name: '延长审批' } as const;
export const specialProcedureName: Readonly<Record<SpecialProcedure, string>> = {
  HEARING: '听证', INSPECTION: '检验检测', APPRAISAL: '鉴定', EXPERT_REVIEW: '专家评审', TENDER: '招标拍卖',
  SITE_CHECK: '现场勘验', OTHER: '其他',
};
export const specialProcedureCode = (_p: SpecialProcedure): '2' => '2';

/** A.8 满意度: 1 非常满意 … 5 非常不满意. govcase scores are 1 (worst) … 5 (best). */
export const satisfactionA8 = (score: number): { code: '1' | '2' | '3' | '4' | '5'; name: string } => {
  const code = String(6 - clampScore(score)) as '1' | '2' | '3' | '4' | '5';
  return { code, name: A8_NAMES[code] };
};
const A8_NAMES = { 1: '非常满意', 2: '满意', 3: '基本满意', 4: '不满意', 5: '非常不满意' } as const;

/** 好差评 satisfaction: 1 非常不满意 … 5 非常满意 (the opposite direction of A.8): the govcase score itself. */
export const hubSatisfaction = (score: number): 1 | 2 | 3 | 4 | 5 => clampScore(score);

const clampScore = (score: number): 1 | 2 | 3 | 4 | 5 => Math.min(5, Math.max(1, Math.round(score))) as 1 | 2 | 3 | 4 | 5;

/** 好差评 pf (evaluation channel): 1 PC 2 移动端 3 二维码 4 大厅平板 5 大厅其他终端 6 电话 7 短信. */
export const hubEvaluationChannel = (c: Channel | undefined): number => {
  switch (c) {
    case 'PC': return 1;
    case 'MOBILE': return 2;
    case 'WINDOW': return 5;
    case 'EXPRESS': return 5;
    case 'OTHER': return 5;
    default: return 1;
  }
};

/** 好差评 proChannel: 1 线上 2 线下. */
export const hubProChannel = (c: Channel): 1 | 2 => (c === 'PC' || c === 'MOBILE' ? 1 : 2);

/** 好差评 proStatus: 1 待办理 2 办理中 3 已办结. */
export const HUB_PRO_STATUS = { WAITING: 1, IN_PROGRESS: 2, DONE: 3 } as const;

/**
 * 办结结果类型 (up_pro_result.result_type). exchange.md gives no code list for it; govcase uses these:
 * 1 准予 2 不予许可 3 不予受理 4 撤回 5 补正逾期终止.
 */
export const RESULT_TYPE = {
  APPROVED: { code: '1', name: '准予许可' },
  DENIED: { code: '2', name: '不予许可' },
  REJECTED: { code: '3', name: '不予受理' },
  WITHDRAWN: { code: '4', name: '申请人撤回' },
  CORRECTION_EXPIRED: { code: '5', name: '逾期未补正，终止办理' },
} as const;

/**
 * 电子监察 预警类型 (monitoring warning type). exchange.md names the field without a list; govcase uses:
 * 1 黄牌预警 2 红牌超期 3 督办 4 督办逾期未回复 5 差评整改逾期 6 差评整改完成.
 */
export const SUPERVISION_TYPE = {
  WARNING: { code: '1', rule: 'GC-DEADLINE-WARNING', name: '黄牌预警：临近承诺办结时限' },
  EXCEEDED: { code: '2', rule: 'GC-DEADLINE-EXCEEDED', name: '红牌：超过承诺办结时限' },
  NOTICE: { code: '3', rule: 'GC-SUPERVISION-NOTICE', name: '督办' },
  NOTICE_OVERDUE: { code: '4', rule: 'GC-NOTICE-OVERDUE', name: '督办逾期未回复' },
  RECTIFICATION_OVERDUE: { code: '5', rule: 'GC-RECTIFICATION-OVERDUE', name: '差评整改逾期' },
  RECTIFIED: { code: '6', rule: 'GC-RECTIFICATION', name: '差评整改完成' },
} as const;

/** 是否快递 (1/0). */
export const expressFlag = (m: DeliveryMethod | undefined): '1' | '0' => (m === 'EXPRESS' ? '1' : '0');

// ---- dates: every target in China Standard Time (UTC+8) ----
const CST_MS = 8 * 3_600_000;
const cst = (instant: string): string => {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) throw new RangeError(`not an instant: ${instant}`);
  return new Date(ms + CST_MS).toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ, shifted to CST
};

/** GB/T 39046: `YYYYMMDDThhmmss`. */
export const gbDateTime = (instant: string): string => {
  const s = cst(instant);
  return `${s.slice(0, 4)}${s.slice(5, 7)}${s.slice(8, 10)}T${s.slice(11, 13)}${s.slice(14, 16)}${s.slice(17, 19)}`;
};

/** A working-day date (`YYYY-MM-DD`) as a GB/T 39046 date-time at the end of that day. */
export const gbEndOfDay = (date: string): string => `${date.replaceAll('-', '')}T235959`;

/** 好差评 and MySQL DATETIME: `yyyy-MM-dd HH:mm:ss`. */
export const hubDateTime = (instant: string): string => {
  const s = cst(instant);
  return `${s.slice(0, 10)} ${s.slice(11, 19)}`;
};

/** GB/T 39046 `YYYYMMDDThhmmss` → `yyyy-MM-dd HH:mm:ss` (both CST). */
export const gbToHub = (gb: string): string =>
  `${gb.slice(0, 4)}-${gb.slice(4, 6)}-${gb.slice(6, 8)} ${gb.slice(9, 11)}:${gb.slice(11, 13)}:${gb.slice(13, 15)}`;

/** GB/T 2260 six-digit region → the hub's twelve-digit area code. */
export const hubAreaCode = (region: string): string => region.padEnd(12, '0');
