import { randomUUID } from 'node:crypto';
import type { EventStore, NewEvent, StreamHead } from '../../application/eventStore.ts';
import { addWorkingDays, nextWorkingDayOnOrAfter, workingDaysBetween } from '../../domain/calendar/index.ts';
import { formatCaseNumber, checkCharacter } from '../../domain/caseNumber.ts';
import type { CaseCommand, CaseCommandData, CaseCommandType } from '../../domain/case/commands.ts';
import { decide } from '../../domain/case/decide.ts';
import { computeDeadline, remainingWorkingDays, warningThreshold } from '../../domain/case/deadline.ts';
import { caseStreamId } from '../../domain/case/events.ts';
import { evolve, initialCaseState, type CaseState } from '../../domain/case/state.ts';
import { serviceItemStreamId, ServiceItemRulesSchema, type ServiceItemRules } from '../../domain/serviceItem/serviceItem.ts';
import { localDateOf, type LocalDate } from '../../domain/time.ts';

/**
 * Realistic case histories for the read-side benchmarks: a Guizhou catalogue, lifecycles played
 * through the write side's own decider (every stream valid), and a concurrent fill of the log.
 */
// ---------------------------------------------------------------------------------------------
// Random data
// ---------------------------------------------------------------------------------------------

export type Rng = () => number;

/** mulberry32: small, fast, seedable. */
export const createRng = (seed: number): Rng => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const digits = (rng: Rng, n: number) => Array.from({ length: n }, () => String(int(rng, 0, 9))).join('');
const weighted = <T>(rng: Rng, xs: readonly (readonly [T, number])[]): T => {
  const total = xs.reduce((s, [, w]) => s + w, 0);
  let r = rng() * total;
  for (const [x, w] of xs) if ((r -= w) < 0) return x;
  return xs[xs.length - 1]![0];
};

/** Guizhou's 9 prefecture-level divisions, their county-level counts (88 in all) and share of the cases. */
const PREFECTURES: readonly (readonly [code: string, name: string, counties: number, weight: number])[] = [
  ['5201', '贵阳市', 10, 30], ['5202', '六盘水市', 4, 7], ['5203', '遵义市', 14, 16], ['5204', '安顺市', 6, 6], ['5205', '毕节市', 8, 13],
  ['5206', '铜仁市', 10, 7], ['5223', '黔西南州', 8, 6], ['5226', '黔东南州', 16, 8], ['5227', '黔南州', 12, 7],
];

interface ItemTemplate {
  readonly key: string;
  readonly name: string;
  readonly itemType: string;
  readonly caseType: 'IMMEDIATE' | 'PROMISED';
  readonly legal: number;
  readonly promised: number;
  readonly weight: number;
  readonly licence?: string;
  readonly materials: readonly (readonly [name: string, required: boolean, copies?: number])[];
  readonly form?: (rng: Rng) => Record<string, unknown>;
}

const DEPARTMENTS: readonly { readonly code: string; readonly name: string; readonly items: readonly ItemTemplate[] }[] = [
  {
    code: 'SCJG', name: '市场监督管理局', items: [
      { key: 'SPJY', name: '食品经营许可', itemType: '01', caseType: 'PROMISED', legal: 20, promised: 10, weight: 8, licence: 'JY1',
        materials: [['食品经营许可申请书', true, 1], ['营业执照复印件', true, 1], ['法定代表人（负责人）身份证明', true, 1], ['食品安全管理制度', true], ['经营场所和设备布局、操作流程平面图', true], ['食品安全管理人员培训合格证明', false]],
        form: (rng) => ({ 经营项目: pick(rng, ['预包装食品销售', '散装食品销售', '热食类食品制售', '冷食类食品制售']), 经营面积: int(rng, 20, 400), 从业人数: int(rng, 1, 30) }) },
      { key: 'GTGS', name: '个体工商户设立登记', itemType: '07', caseType: 'IMMEDIATE', legal: 15, promised: 0, weight: 14, licence: 'GT',
        materials: [['个体工商户登记（备案）申请书', true, 1], ['经营者身份证明', true, 1], ['经营场所使用证明', true]],
        form: (rng) => ({ 字号: `${pick(rng, ['兴旺', '顺达', '黔味', '山城', '鑫源', '惠民'])}${pick(rng, ['便利店', '小吃店', '五金店', '理发店', '水果店'])}`, 组成形式: '个人经营' }) },
      { key: 'YPLS', name: '药品零售企业许可', itemType: '01', caseType: 'PROMISED', legal: 30, promised: 15, weight: 2, licence: '黔CB',
        materials: [['药品经营许可证申请表', true], ['企业负责人、质量负责人学历及执业资格证明', true], ['经营场所、仓库平面布置图及房屋产权证明', true], ['质量管理文件目录', true]] },
    ],
  },
  {
    code: 'GA', name: '公安局', items: [
      { key: 'HKQY', name: '户口迁移', itemType: '01', caseType: 'PROMISED', legal: 20, promised: 5, weight: 12,
        materials: [['户口迁移申请表', true], ['居民户口簿', true], ['居民身份证', true], ['迁入地住房证明', true]] },
      { key: 'JZZ', name: '居住证签发', itemType: '01', caseType: 'PROMISED', legal: 15, promised: 7, weight: 8,
        materials: [['居住证申领登记表', true], ['居民身份证', true], ['居住证明', true], ['近期免冠照片', true, 2]] },
      { key: 'LSSF', name: '临时居民身份证申领', itemType: '07', caseType: 'IMMEDIATE', legal: 3, promised: 0, weight: 6,
        materials: [['居民户口簿', true], ['近期免冠照片', true, 1]] },
    ],
  },
  {
    code: 'RSJ', name: '人力资源和社会保障局', items: [
      { key: 'JYCY', name: '就业创业证申领', itemType: '07', caseType: 'IMMEDIATE', legal: 5, promised: 0, weight: 9,
        materials: [['就业创业证申领登记表', true], ['居民身份证', true]] },
      { key: 'ZYJN', name: '职业技能等级认定', itemType: '08', caseType: 'PROMISED', legal: 20, promised: 10, weight: 4,
        materials: [['职业技能等级认定申报表', true], ['学历证明', true], ['工作年限证明', true], ['近期免冠照片', true, 2]] },
      { key: 'SBDJ', name: '社会保险登记', itemType: '07', caseType: 'IMMEDIATE', legal: 5, promised: 0, weight: 6,
        materials: [['社会保险登记表', true], ['营业执照复印件', true]] },
    ],
  },
  {
    code: 'ZJJ', name: '住房和城乡建设局', items: [
      { key: 'SGXK', name: '建筑工程施工许可证核发', itemType: '01', caseType: 'PROMISED', legal: 15, promised: 7, weight: 3, licence: 'SG',
        materials: [['建筑工程施工许可证申请表', true], ['建设工程规划许可证', true], ['施工合同', true], ['施工图设计文件审查合格书', true], ['质量安全监督手续', true]],
        form: (rng) => ({ 工程名称: `${pick(rng, ['花果园', '观山湖', '未来方舟', '中天', '碧桂园'])}${int(rng, 1, 30)}号楼`, 建筑面积: int(rng, 800, 60_000), 合同价款万元: int(rng, 100, 30_000) }) },
      { key: 'YSXK', name: '商品房预售许可', itemType: '01', caseType: 'PROMISED', legal: 20, promised: 10, weight: 1, licence: 'YS',
        materials: [['商品房预售许可申请表', true], ['国有土地使用权证', true], ['建设工程规划许可证', true], ['施工许可证', true], ['商品房预售方案', true]] },
    ],
  },
  {
    code: 'WJW', name: '卫生健康局', items: [
      { key: 'YLJG', name: '医疗机构执业登记', itemType: '01', caseType: 'PROMISED', legal: 45, promised: 20, weight: 1, licence: 'PDY',
        materials: [['医疗机构执业登记申请书', true], ['设置医疗机构批准书', true], ['医疗机构用房产权证明', true], ['医疗机构规章制度', true], ['医务人员执业证书', true]] },
      { key: 'CSRZ', name: '出生医学证明首次签发', itemType: '07', caseType: 'IMMEDIATE', legal: 3, promised: 0, weight: 5,
        materials: [['出生医学证明首次签发登记表', true], ['父母身份证', true]] },
    ],
  },
  {
    code: 'MZJ', name: '民政局', items: [
      { key: 'HYDJ', name: '婚姻登记', itemType: '08', caseType: 'IMMEDIATE', legal: 1, promised: 0, weight: 7,
        materials: [['居民户口簿', true], ['居民身份证', true], ['近期半身免冠合影照片', true, 3]] },
      { key: 'STDJ', name: '社会团体成立登记', itemType: '01', caseType: 'PROMISED', legal: 60, promised: 20, weight: 1, licence: 'ST',
        materials: [['社会团体成立登记申请书', true], ['业务主管单位批准文件', true], ['章程草案', true], ['验资报告', true], ['住所使用权证明', true]] },
    ],
  },
];

const STEP_OPINIONS: readonly (readonly string[])[] = [
  ['材料齐全，符合法定形式，予以承办。', '经核查申请材料真实有效，拟同意，提交审核。', '已现场核查，情况属实，提交审核。'],
  ['经审核，符合相关规定，同意，提交批准。', '审核通过。', '材料经复核无误，同意办理。'],
  ['同意。', '批准。', '同意，准予许可。'],
];
const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林龙杨吴'.split('');
const GIVEN = '伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰华建国志红玉梅'.split('');
const COMPANY_WORDS = ['黔', '筑', '山', '鑫', '瑞', '华', '兴', '源', '达', '泰', '城', '云'];
const STREETS = ['中华北路', '延安中路', '遵义路', '宝山北路', '花溪大道', '长岭北路', '北京路', '解放路', '人民大道', '新华路'];
const NOTICES = ['该件已进入预警期，请加快办理并于期限内反馈办理情况。', '群众反映办理进度缓慢，请核实并说明原因。', '请说明该件暂停计时的依据。'];
const NOTICE_ANSWERS = ['已加快办理，预计三个工作日内办结。', '经核实，因申请人补充材料延误，现已办结。', '已按要求整改并说明情况。'];
const BAD_COMMENTS = ['等待时间太长', '窗口人员态度不好', '跑了好几次才办成', '网上申报系统经常出错'];
const GOOD_COMMENTS = ['办理很快，服务热情', '一次办成，点赞', '指引清楚', undefined, undefined, undefined];

export interface CatalogItem {
  rules: ServiceItemRules;
  version: number;
  readonly template: ItemTemplate;
}

export interface Catalog {
  readonly items: CatalogItem[];
  /** per county: its departments' codes (transfers go between them) */
  readonly departmentsOf: ReadonlyMap<string, readonly string[]>;
  pickItem(rng: Rng): CatalogItem;
}

/** The service items of Guizhou's 88 counties: 6 departments × 2-3 items each (1,320 items), weighted by county and item. */
export const buildCatalog = (): Catalog => {
  const items: CatalogItem[] = [];
  const weights: number[] = [];
  const departmentsOf = new Map<string, string[]>();
  for (const [pref, prefName, counties, prefWeight] of PREFECTURES) {
    for (let i = 0; i < counties; i++) {
      const region = `${pref}${String(i + 2).padStart(2, '0')}`;
      const countyWeight = (prefWeight / counties) * (i === 0 ? 2.5 : 1); // the seat of each prefecture is busier
      for (const dept of DEPARTMENTS) {
        const departmentCode = `${region}-${dept.code}`;
        departmentsOf.set(region, [...(departmentsOf.get(region) ?? []), departmentCode]);
        for (const tpl of dept.items) {
          const rules = ServiceItemRulesSchema.parse({
            itemCode: `${region}-${dept.code}-${tpl.key}`,
            name: tpl.name,
            itemType: tpl.itemType,
            departmentCode,
            departmentName: `${prefName}${region}${dept.name}`,
            regionCode: region,
            caseType: tpl.caseType,
            legalLimitDays: tpl.legal,
            promisedLimitDays: tpl.promised,
            materials: tpl.materials.map(([name, required, copies]) => (copies === undefined ? { name, required } : { name, required, copies })),
          });
          items.push({ rules, version: -1, template: tpl });
          weights.push(countyWeight * tpl.weight);
        }
      }
    }
  }
  const cumulative: number[] = [];
  let sum = 0;
  for (const w of weights) cumulative.push((sum += w));
  return {
    items,
    departmentsOf,
    pickItem(rng) {
      const r = rng() * sum;
      let lo = 0, hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid]! > r) hi = mid;
        else lo = mid + 1;
      }
      return items[lo]!;
    },
  };
};

// ---------------------------------------------------------------------------------------------
// Case lifecycles, played through the decider
// ---------------------------------------------------------------------------------------------

export interface SimCase {
  readonly streamId: string;
  /** the events, cut into appends */
  readonly groups: NewEvent[][];
  readonly events: number;
  next: number;
  head: StreamHead | null;
}

const CST = 8 * 3_600_000;
const instantAt = (day: LocalDate, minuteOfDay: number): number => Date.parse(`${day}T00:00:00Z`) - CST + minuteOfDay * 60_000;
const FIRST_DAY: LocalDate = '2025-01-02';
const LAST_SUBMISSION_DAY: LocalDate = '2026-09-30';

class Lifecycle {
  state: CaseState = initialCaseState();
  groups: NewEvent[][] = [[]];
  t: number; // ms epoch of the last event
  day: LocalDate;

  constructor(readonly rng: Rng, start: number) {
    this.t = start;
    this.day = localDateOf(new Date(start));
  }

  /** Starts a new append: what follows is written by a later call. */
  cut() {
    if (this.groups[this.groups.length - 1]!.length > 0) this.groups.push([]);
  }

  /** A moment later the same day (a few minutes … an hour), or at the given minute of the day if later. */
  soon(minMinutes = 2, maxMinutes = 60) {
    this.t += int(this.rng, minMinutes, maxMinutes) * 60_000 + int(this.rng, 0, 59_000);
    this.day = localDateOf(new Date(this.t));
  }

  /**
   * `n` working days later (0: later today, or the next working day if today is not one), in office
   * hours. On a new day the deadline clock has its round first (00:xx), for an accepted case.
   */
  workingDaysLater(n: number) {
    const base = nextWorkingDayOnOrAfter(this.day);
    const day = n === 0 ? base : addWorkingDays(base, n);
    if (day > this.day) {
      this.systemAt(day);
      this.clockTick();
    }
    const at = instantAt(day, int(this.rng, 9 * 60, 17 * 60 + 30)) + int(this.rng, 0, 59_000);
    if (at > this.t) {
      this.t = at;
      this.day = day;
    } else this.soon(1, 20);
  }

  /** The deadline clock's round: 00:xx CST of `day`. */
  systemAt(day: LocalDate) {
    const at = instantAt(day, int(this.rng, 5, 50));
    if (at > this.t) {
      this.t = at;
      this.day = day;
    }
  }

  run<T extends CaseCommandType>(type: T, data: CaseCommandData<T>, actor: { id: string; role: string; departmentCode?: string; clientApp?: string }) {
    const now = new Date(this.t).toISOString();
    const events = decide({ type, data, metadata: { now } } as CaseCommand, this.state);
    const commandId = randomUUID();
    const group = this.groups[this.groups.length - 1]!;
    for (const e of events) {
      this.state = evolve(this.state, e, now);
      group.push({
        type: e.type,
        data: e.data,
        metadata: {
          actorId: actor.id, actorRole: actor.role, departmentCode: actor.departmentCode, commandId, correlationId: commandId,
          clientApp: actor.clientApp, sourceAddress: actor.role === 'system' ? undefined : `10.${int(this.rng, 16, 31)}.${int(this.rng, 0, 255)}.${int(this.rng, 1, 254)}`,
          occurredAt: now,
        },
      });
    }
    return events.length;
  }

  /** The deadline clock: an overdue mark or a warning, when today calls for one (same tests as the decider's). */
  clockTick() {
    const s = this.state;
    if (s.status !== 'ACCEPTED' || s.clock.exceededRaised) return;
    const system = { id: 'system:deadline-clock', role: 'system', clientApp: 'govcase-deadline-clock' };
    if (this.day > s.clock.deadline) {
      this.run('MarkDeadlineExceeded', {}, system);
      return;
    }
    if (s.clock.warningRaised) return;
    const remaining = remainingWorkingDays(this.day, s.clock.deadline);
    const total = (s.clock.caseType === 'IMMEDIATE' ? 0 : s.clock.limitDays) + s.clock.extensionDays;
    if (remaining >= 1 && remaining <= warningThreshold(total, s.item.warningThresholdPercent)) this.run('RaiseDeadlineWarning', {}, system);
  }
}

export interface CaseFactory {
  /** A new case submitted at `fraction` (0 … 1) of the 2025-01 … 2026-09 span; its whole lifecycle. */
  next(fraction: number): SimCase;
  readonly discarded: Map<string, number>;
}

export const createCaseFactory = (rng: Rng, catalog: Catalog): CaseFactory => {
  const serials = new Map<string, number>();
  const discarded = new Map<string, number>();
  const t0 = instantAt(FIRST_DAY, 0);
  const t1 = instantAt(LAST_SUBMISSION_DAY, 24 * 60);

  const applicantOf = (item: CatalogItem) => {
    const company = item.template.licence !== undefined && rng() < 0.6;
    if (company) {
      const uscc = `9152${item.rules.regionCode.slice(2)}${digits(rng, 2)}${Array.from({ length: 8 }, () => pick(rng, '0123456789ABCDEFGHJKLMNPQRTUWXY'.split(''))).join('')}`;
      return {
        name: `贵州${pick(rng, COMPANY_WORDS)}${pick(rng, COMPANY_WORDS)}${pick(rng, ['商贸', '建设', '餐饮', '医药', '科技', '物业'])}有限公司`,
        idType: '049', idNumber: uscc, phone: `0851-${digits(rng, 8)}`,
        address: `贵州省${item.rules.regionCode}${pick(rng, STREETS)}${int(rng, 1, 400)}号`, kind: '法人',
      };
    }
    const birth = `${int(rng, 1950, 2006)}${String(int(rng, 1, 12)).padStart(2, '0')}${String(int(rng, 1, 28)).padStart(2, '0')}`;
    const id17 = `${item.rules.regionCode}${birth}${digits(rng, 3)}`;
    return {
      name: `${pick(rng, SURNAMES)}${pick(rng, GIVEN)}${rng() < 0.6 ? pick(rng, GIVEN) : ''}`,
      idType: '111', idNumber: `${id17}${checkCharacter(id17)}`, phone: `1${pick(rng, ['35', '38', '39', '58', '80', '86', '88'])}${digits(rng, 8)}`,
      address: rng() < 0.7 ? `贵州省${item.rules.regionCode}${pick(rng, STREETS)}${int(rng, 1, 400)}号` : undefined, kind: '自然人',
    };
  };

  const play = (fraction: number): SimCase => {
    const item = catalog.pickItem(rng);
    const rules = item.rules;
    const dept = rules.departmentCode;
    const channel = weighted(rng, [['WINDOW', 38], ['PC', 27], ['MOBILE', 30], ['EXPRESS', 3], ['OTHER', 2]] as const);
    const online = channel === 'PC' || channel === 'MOBILE';
    // online: any day and hour (mostly daytime); at the window: office hours of a working day
    let start = t0 + fraction * (t1 - t0);
    let day = localDateOf(new Date(start));
    if (!online) day = nextWorkingDayOnOrAfter(day);
    start = online
      ? instantAt(day, Math.min(24 * 60 - 1, Math.max(0, Math.round(13 * 60 + (rng() + rng() + rng() - 1.5) * 6 * 60))))
      : instantAt(day, int(rng, 9 * 60, 17 * 60 + 30));
    const L = new Lifecycle(rng, start);
    const caseId = randomUUID();
    const ownerId = channel === 'WINDOW' ? null : `u-${digits(rng, 10)}`;
    const applicant = applicantOf(item);
    const applicantActor = { id: ownerId ?? `applicant:${applicant.idNumber.slice(-6)}`, role: 'applicant', clientApp: channel === 'MOBILE' ? 'gzzwfw-app' : 'gzzwfw-web' };
    const clerk = { id: `clerk-${dept}-${int(rng, 1, 6)}`, role: 'clerk', departmentCode: dept, clientApp: 'window-terminal' };
    const reviewer = (i: number) => ({ id: `reviewer-${dept}-${i}-${int(rng, 1, 3)}`, role: 'reviewer', departmentCode: dept, clientApp: 'govcase-console' });
    const key = `${rules.regionCode}${day}`;
    const serial = (serials.get(key) ?? 0) + 1;
    serials.set(key, serial);
    const required = rules.materials.filter((m) => m.required);
    const missing = required.length > 1 && rng() < 0.12 ? pick(rng, required).name : null;

    L.run('SubmitCase', {
      caseId, caseNumber: formatCaseNumber(rules.regionCode, day, serial), item: rules, applicant,
      materials: rules.materials.filter((m) => m.required || rng() < 0.5).map((m) => ({
        name: m.name, provided: m.name !== missing, ...(m.copies !== undefined ? { copies: m.copies } : {}),
      })),
      channel, formData: item.template.form?.(rng), ownerId,
    }, channel === 'WINDOW' ? clerk : applicantActor);

    // intake at the window / back office: the same day at the window, else the next working day(s)
    if (channel === 'WINDOW') L.soon(3, 25);
    else L.workingDaysLater(int(rng, 0, 2));
    const fate = rng();
    if (fate < 0.01) {
      L.run('WithdrawCase', { reason: '申请人主动撤回申请' }, applicantActor);
      return done(L, caseId);
    }
    if (fate < 0.04) {
      L.run('RejectCase', { reason: pick(rng, ['申请事项不属于本部门职权范围', '申请人不具备申请资格', '申请事项依法不需要取得行政许可']) }, clerk);
      if (rng() < 0.2) {
        L.workingDaysLater(int(rng, 0, 2));
        L.run('EvaluateCase', { score: int(rng, 1, 4), comment: pick(rng, BAD_COMMENTS), channel }, applicantActor);
      }
      return done(L, caseId);
    }
    if (missing) {
      L.run('RequestCorrection', { missingMaterials: [missing], reason: `请补正：${missing}` }, clerk);
      L.cut();
      if (rng() < 0.88) {
        L.workingDaysLater(int(rng, 0, rules.correctionLimitDays - 1));
        L.run('SupplyCorrection', { materials: [{ name: missing, provided: true }] }, applicantActor);
        L.soon(10, 120);
      } else {
        const s = L.state;
        if (s.status !== 'CORRECTION_REQUESTED') throw new Error('expected a correction');
        L.systemAt(addWorkingDays(s.correction.deadline, 1));
        L.run('ExpireCorrection', {}, { id: 'system:deadline-clock', role: 'system', clientApp: 'govcase-deadline-clock' });
        return done(L, caseId);
      }
    }
    L.run('AcceptCase', {}, clerk);
    const accepted = L.state;
    if (accepted.status !== 'ACCEPTED') throw new Error('expected an accepted case');
    // computeDeadline: the same rule the decider used; checked, so a generator bug cannot pass unnoticed
    const expected = computeDeadline({ acceptedOn: accepted.clock.acceptedOn, caseType: accepted.clock.caseType, limitDays: accepted.clock.limitDays, extensionDays: 0, pausedDays: 0 });
    if (expected !== accepted.clock.deadline) throw new Error(`deadline ${accepted.clock.deadline} ≠ computeDeadline ${expected}`);
    L.cut();

    // review: the item's steps (承办, 审核, 批准), a few working days apart for a promised case
    const immediate = rules.caseType === 'IMMEDIATE';
    const limit = Math.max(1, rules.promisedLimitDays);
    const late = !immediate && rng() < 0.04;
    const gap = () => (immediate ? 0 : late ? int(rng, 1, Math.ceil(limit / 2)) : int(rng, 0, Math.max(1, Math.floor(limit / 4))));
    const supervised = rng() < (late ? 0.5 : 0.03);
    const suspendAt = !immediate && rng() < 0.04 ? int(rng, 0, 2) : -1;
    const extendAt = !immediate && rng() < 0.015 ? int(rng, 0, 2) : -1;
    const transferAt = rng() < 0.004 ? 0 : -1;
    let noticeId: string | null = null;
    for (let i = 0; i < rules.steps.length; i++) {
      if (i > 0 || channel !== 'WINDOW' || !immediate) {
        L.workingDaysLater(gap());
      } else L.soon(2, 15);
      if (i === transferAt) {
        const current = L.state.status === 'NONE' ? dept : L.state.departmentCode;
        const others = (catalog.departmentsOf.get(rules.regionCode) ?? []).filter((d) => d !== current);
        if (others.length > 0) {
          L.run('TransferCase', { toDepartmentCode: pick(rng, others), reason: '属地管辖调整，移交办理' }, reviewer(0));
          L.soon(5, 60);
        }
      }
      if (i === suspendAt) {
        const days = int(rng, 3, 10);
        L.run('SuspendCase', { procedure: weighted(rng, [['INSPECTION', 4], ['SITE_CHECK', 3], ['EXPERT_REVIEW', 2], ['HEARING', 1]] as const), reason: '需现场核查', expectedWorkingDays: days }, reviewer(i));
        L.workingDaysLater(days + int(rng, -1, 2));
        L.run('ResumeCase', { result: '现场核查完毕，情况属实' }, reviewer(i));
        L.soon(5, 60);
      }
      if (i === extendAt) {
        L.run('ExtendDeadline', { workingDays: int(rng, 5, 10), reason: '情况复杂，经本机关负责人批准延长期限' }, reviewer(i));
        L.soon(5, 60);
      }
      if (i === 1 && rng() < 0.03) {
        L.run('CompleteReviewStep', { step: rules.steps[1]!, action: 'RETURN', opinion: '材料需进一步核实，退回承办。' }, reviewer(1));
        L.workingDaysLater(immediate ? 0 : int(rng, 0, 1));
        L.run('CompleteReviewStep', { step: rules.steps[0]!, action: 'PASS', opinion: '已补充核实，重新提交审核。' }, reviewer(0));
        L.soon(10, 120);
      }
      if (supervised && i === 1 && noticeId === null) {
        noticeId = randomUUID();
        L.run('IssueSupervisionNotice', { noticeId, content: pick(rng, NOTICES), replyWithinWorkingDays: 3 },
          { id: `supervisor-${rules.regionCode.slice(0, 4)}00-${int(rng, 1, 3)}`, role: 'supervisor', clientApp: 'govcase-supervision' });
        if (rng() < 0.85) {
          L.workingDaysLater(int(rng, 0, 3));
          L.run('AnswerSupervisionNotice', { noticeId, answer: pick(rng, NOTICE_ANSWERS) }, reviewer(i));
        }
        L.soon(5, 60);
      }
      L.run('CompleteReviewStep', { step: rules.steps[i]!, action: 'PASS', opinion: pick(rng, STEP_OPINIONS[Math.min(i, 2)]!) }, reviewer(i));
      if (rng() < 0.005) {
        L.run('WithdrawCase', { reason: '申请人情况变化，撤回申请' }, applicantActor);
        return done(L, caseId);
      }
    }
    if (late) {
      const s = L.state;
      if (s.status === 'ACCEPTED') L.workingDaysLater(Math.max(0, workingDaysBetween(L.day, s.clock.deadline)) + int(rng, 1, 4));
    } else if (!immediate) L.workingDaysLater(int(rng, 0, 1));
    else L.soon(2, 20);
    const approved = rng() < 0.93;
    const lic = item.template.licence;
    L.run('DecideCase', approved
      ? { outcome: 'APPROVED', ...(lic ? { licenceNumber: `${lic}${rules.regionCode}${L.day.slice(0, 4)}${digits(rng, 6)}` } : {}) }
      : { outcome: 'DENIED', reason: pick(rng, ['经现场核查，经营场所不符合要求', '申请材料与实际情况不符', '不符合法定条件']) }, reviewer(2));
    L.cut();

    // delivery (送达) and the applicant's rating (好差评)
    const method = weighted(rng, [['ELECTRONIC', online ? 6 : 2], ['WINDOW', online ? 2 : 6], ['EXPRESS', 2]] as const);
    if (immediate && channel === 'WINDOW') L.soon(2, 30);
    else L.workingDaysLater(int(rng, 0, 3));
    L.run('DeliverResult', method === 'EXPRESS' ? { method, trackingNumber: `SF14${digits(rng, 11)}` } : { method }, clerk);
    if (rng() < 0.65) {
      if (rng() < 0.5) L.soon(1, 90);
      else L.workingDaysLater(int(rng, 0, 2));
      const score = weighted(rng, [[5, 76], [4, 14], [3, 5], [2, 3], [1, 2]] as const);
      L.run('EvaluateCase', { score, comment: score <= 2 ? pick(rng, BAD_COMMENTS) : pick(rng, GOOD_COMMENTS), channel }, applicantActor);
      if (score <= 2) {
        if (rng() < 0.85) {
          L.workingDaysLater(int(rng, 0, rules.rectificationLimitDays - 1));
          L.run('CompleteRectification', { reason: '已联系申请人说明情况并整改' }, clerk);
        } else {
          const e = L.state.status !== 'NONE' ? L.state.evaluation : undefined;
          if (e?.rectificationDeadline) {
            L.systemAt(addWorkingDays(e.rectificationDeadline, 1));
            L.run('FlagRectificationOverdue', {}, { id: 'system:deadline-clock', role: 'system', clientApp: 'govcase-deadline-clock' });
          }
        }
      }
    }
    if (rng() < 0.001) {
      L.workingDaysLater(int(rng, 5, 20));
      L.run('EraseApplicantData', { legalBasis: '《个人信息保护法》第四十七条：申请人申请删除个人信息' }, { id: 'admin-1', role: 'admin', clientApp: 'govcase-console' });
    }
    return done(L, caseId);
  };

  const done = (L: Lifecycle, caseId: string): SimCase => {
    const groups = L.groups.filter((g) => g.length > 0);
    return { streamId: caseStreamId(caseId), groups, events: groups.reduce((s, g) => s + g.length, 0), next: 0, head: null };
  };

  return {
    discarded,
    next(fraction) {
      for (let attempt = 0; ; attempt++) {
        try {
          return play(fraction);
        } catch (err) {
          // e.g. a lifecycle running past the last year of the working-day calendar: play another case
          const msg = (err as Error).message.slice(0, 80);
          discarded.set(msg, (discarded.get(msg) ?? 0) + 1);
          if (attempt > 50) throw err;
        }
      }
    },
  };
};

/** Cuts a case's events into appends of about `size` events (whatever its natural groups). */
export const regroup = (c: SimCase, size: number): SimCase => {
  const all = c.groups.flat();
  const groups: NewEvent[][] = [];
  for (let i = 0; i < all.length; i += size) groups.push(all.slice(i, i + size));
  return { ...c, groups };
};

// ---------------------------------------------------------------------------------------------
// Filling the log
// ---------------------------------------------------------------------------------------------

/** Publishes every catalogue item (`ServiceItemPublished`, one stream each). */
export const publishCatalog = async (store: EventStore, catalog: Catalog, concurrency = 32): Promise<number> => {
  let i = 0;
  const worker = async () => {
    for (let k = i++; k < catalog.items.length; k = i++) {
      const item = catalog.items[k]!;
      const res = await store.appendToStream(serviceItemStreamId(item.rules.itemCode), [{
        type: 'ServiceItemPublished', data: { item: item.rules },
        metadata: { actorId: 'admin-catalog', actorRole: 'admin', occurredAt: '2025-01-01T02:00:00.000Z', clientApp: 'govcase-console' },
      }], { expectedVersion: 'no_stream', commandId: randomUUID() });
      item.version = res.version;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return catalog.items.length;
};

/** A revision of an item (a new promised limit or a new optional material): later cases copy the new rules. */
export const reviseItem = async (store: EventStore, item: CatalogItem, rng: Rng, occurredAt: string): Promise<void> => {
  const before = item.rules;
  const promised = before.caseType === 'PROMISED' ? Math.max(1, Math.min(before.legalLimitDays, before.promisedLimitDays + pick(rng, [-2, -1, 1]))) : 0;
  const rules = ServiceItemRulesSchema.parse({
    ...before,
    promisedLimitDays: promised,
    materials: before.materials.length < 8 && rng() < 0.5 ? [...before.materials, { name: `补充说明材料${before.materials.length + 1}`, required: false }] : before.materials,
  });
  const changed = (Object.keys(rules) as (keyof ServiceItemRules)[]).filter((k) => JSON.stringify(rules[k]) !== JSON.stringify(before[k]));
  if (changed.length === 0) return;
  const res = await store.appendToStream(serviceItemStreamId(rules.itemCode), [{
    type: 'ServiceItemRevised', data: { item: rules, changed },
    metadata: { actorId: 'admin-catalog', actorRole: 'admin', occurredAt, clientApp: 'govcase-console' },
  }], { expectedVersion: item.version, commandId: randomUUID() });
  item.version = res.version;
  item.rules = rules;
};

export interface FillOptions {
  readonly store: EventStore;
  readonly catalog: Catalog;
  readonly rng: Rng;
  readonly targetEvents: number;
  readonly writers: number;
  /** cases open at once (their appends interleave in the log) */
  readonly window: number;
  readonly onProgress?: (done: number, cases: number) => void;
  readonly signal?: AbortSignal;
}

export interface FillResult {
  readonly events: number;
  readonly cases: number;
  readonly appends: number;
  readonly revisions: number;
  readonly discarded: ReadonlyMap<string, number>;
  readonly byType: ReadonlyMap<string, number>;
}

export const fillCases = async (o: FillOptions): Promise<FillResult> => {
  const factory = createCaseFactory(o.rng, o.catalog);
  const ready: SimCase[] = [];
  const waiters: (() => void)[] = [];
  const byType = new Map<string, number>();
  let open = 0; // cases created and not finished (ready or in flight)
  let planned = 0;
  let appended = 0;
  let appends = 0;
  let cases = 0;
  let revisions = 0;
  let revising = false;
  let failure: unknown = null;
  const wake = () => waiters.splice(0).forEach((w) => w());

  const take = (): SimCase | null | 'wait' => {
    if (open < o.window && planned < o.targetEvents) {
      const c = factory.next(Math.min(1, planned / o.targetEvents));
      planned += c.events;
      cases++;
      open++;
      for (const g of c.groups) for (const e of g) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
      return c;
    }
    if (ready.length > 0) {
      const i = Math.floor(o.rng() * ready.length);
      const c = ready[i]!;
      ready[i] = ready[ready.length - 1]!;
      ready.pop();
      return c;
    }
    return open > 0 ? 'wait' : null;
  };

  const writer = async () => {
    while (failure === null) {
      if (o.signal?.aborted) throw new Error('fill interrupted');
      const c = take();
      if (c === null) return;
      if (c === 'wait') {
        await new Promise<void>((r) => waiters.push(r));
        continue;
      }
      const group = c.groups[c.next]!;
      try {
        const res = await o.store.appendToStream(c.streamId, group, {
          expectedVersion: c.head ? c.head.version : 'no_stream',
          head: c.head,
          commandId: group[0]!.metadata.commandId,
        });
        c.head = { version: res.version, hash: res.events[res.events.length - 1]!.hash };
      } catch (err) {
        failure = err;
        wake();
        return;
      }
      appended += group.length;
      appends++;
      c.next++;
      if (c.next < c.groups.length) ready.push(c);
      else open--;
      wake();
      o.onProgress?.(appended, cases);
      // the catalogue changes now and then (one revision at a time)
      if (appends % 4_000 === 0 && !revising) {
        revising = true;
        const item = o.catalog.pickItem(o.rng);
        reviseItem(o.store, item, o.rng, group[group.length - 1]!.metadata.occurredAt)
          .then(() => { revisions++; })
          .catch((err: unknown) => { failure = err; })
          .finally(() => { revising = false; });
      }
    }
  };
  await Promise.all(Array.from({ length: o.writers }, writer));
  while (revising) await new Promise((r) => setTimeout(r, 10));
  if (failure !== null) throw failure;
  return { events: appended, cases, appends, revisions, discarded: factory.discarded, byType };
};
