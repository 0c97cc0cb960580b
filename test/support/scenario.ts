import { randomUUID } from 'node:crypto';
import { handleCaseCommand, submitCase, type CaseDeps, type CaseCommandInput } from '../../application/cases.ts';
import { publishServiceItem } from '../../application/serviceItems.ts';
import type { Principal } from '../../domain/permissions.ts';

/** A seeded generator of realistic case histories, driven through the real command path. */
export const rng = (seed: number) => {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

export const REGIONS = ['520102', '520103', '520111', '520302', '520402'] as const;
export const DEPTS = ['MARKET', 'HOUSING', 'TRANSPORT'] as const;

export interface ScenarioItem {
  readonly itemCode: string;
  readonly departmentCode: string;
  readonly regionCode: string;
}

const admin: Principal = { id: 'admin', roles: ['admin'] };

export const publishItems = async (deps: CaseDeps, tag: string): Promise<ScenarioItem[]> => {
  const items: ScenarioItem[] = [];
  for (const regionCode of REGIONS) {
    for (const dept of DEPTS) {
      const item = {
        itemCode: `${tag}-${regionCode}-${dept}`.slice(0, 24),
        name: `${dept} 许可 ${regionCode}`,
        itemType: '01',
        departmentCode: `${regionCode}-${dept}`,
        departmentName: `${regionCode} ${dept} 局`,
        regionCode,
        caseType: dept === 'TRANSPORT' ? 'IMMEDIATE' : 'PROMISED',
        legalLimitDays: 20,
        promisedLimitDays: dept === 'TRANSPORT' ? 0 : 5 + (regionCode.charCodeAt(5) % 10),
        steps: ['承办', '审核', '批准'],
        materials: [{ name: '申请书', required: true }],
      };
      await publishServiceItem(deps, item, { principal: admin });
      items.push({ itemCode: item.itemCode, departmentCode: item.departmentCode, regionCode });
    }
  }
  return items;
};

const staff = (item: ScenarioItem) => ({
  clerk: { id: `clerk-${item.departmentCode}`, roles: ['clerk'], departmentCode: item.departmentCode, regionCode: item.regionCode } as Principal,
  reviewer: { id: `reviewer-${item.departmentCode}`, roles: ['reviewer'], departmentCode: item.departmentCode, regionCode: item.regionCode } as Principal,
  supervisor: { id: 'supervisor', roles: ['supervisor'], regionCode: '520000' } as Principal,
});

/** Runs `n` cases through random lifecycles, `concurrency` at a time. Returns the case ids. */
export const runCases = async (deps: CaseDeps, items: readonly ScenarioItem[], n: number, seed = 1, concurrency = 8): Promise<string[]> => {
  const random = rng(seed);
  const ids: string[] = [];
  let next = 0;
  const one = async (i: number) => {
    const item = items[Math.floor(random() * items.length)]!;
    const applicant: Principal = { id: `applicant-${i % 500}`, roles: ['applicant'] };
    const { clerk, reviewer, supervisor } = staff(item);
    const submitted = await submitCase(deps, {
      itemCode: item.itemCode,
      applicant: { name: `申请人${i}`, idType: '111', idNumber: `5201021990${String(i).padStart(8, '0')}`, phone: '13900000000' },
      materials: [{ name: '申请书', provided: random() > 0.15 }],
      channel: (['WINDOW', 'PC', 'MOBILE'] as const)[i % 3],
    }, { principal: applicant, commandId: randomUUID() });
    const caseId = submitted.caseId;
    ids.push(caseId);
    const run = (input: CaseCommandInput, principal: Principal) => handleCaseCommand(deps, caseId, input, { principal, commandId: randomUUID() });
    const r = random();
    if (submitted.state.status === 'SUBMITTED' && submitted.state.materials.some((m) => !m.provided)) {
      await run({ type: 'RequestCorrection', data: { missingMaterials: ['申请书'], reason: '缺申请书' } }, clerk);
      if (r < 0.3) return;
      await run({ type: 'SupplyCorrection', data: { materials: [{ name: '申请书', provided: true }] } }, applicant);
    }
    if (r < 0.1) return void (await run({ type: 'RejectCase', data: { reason: '不符合条件' } }, clerk));
    if (r < 0.15) return void (await run({ type: 'WithdrawCase', data: { reason: '不办了' } }, applicant));
    await run({ type: 'AcceptCase', data: {} }, clerk);
    if (r < 0.25) return; // in progress
    if (r < 0.3) return void (await run({ type: 'IssueSupervisionNotice', data: { noticeId: randomUUID(), content: '请加快办理', replyWithinWorkingDays: 2 } }, supervisor));
    for (const step of ['承办', '审核', '批准']) await run({ type: 'CompleteReviewStep', data: { step, action: 'PASS', opinion: '同意' } }, reviewer);
    if (r < 0.35) return void (await run({ type: 'SuspendCase', data: { procedure: 'EXPERT_REVIEW', reason: '专家评审', expectedWorkingDays: 5 } }, reviewer));
    const denied = r < 0.45;
    await run({ type: 'DecideCase', data: denied ? { outcome: 'DENIED', reason: '不符合' } : { outcome: 'APPROVED', licenceNumber: `L${i}` } }, reviewer);
    if (r < 0.5) return;
    await run({ type: 'DeliverResult', data: { method: 'WINDOW' } }, clerk);
    if (r < 0.6) return;
    const score = 1 + Math.floor(random() * 5);
    await run({ type: 'EvaluateCase', data: { score } }, applicant);
    if (score <= 2 && r < 0.8) await run({ type: 'CompleteRectification', data: { reason: '已整改' } }, clerk);
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await one(next++);
    }),
  );
  return ids;
};
