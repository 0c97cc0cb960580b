import { randomUUID } from 'node:crypto';
import { handleCaseCommand, submitCase, type CaseCommandInput, type CaseDeps } from '../../application/cases.ts';
import { publishServiceItem } from '../../application/serviceItems.ts';
import type { Principal } from '../../domain/permissions.ts';

/**
 * `govcase seed`: a demo catalogue for several Guizhou regions and departments, and N cases spread
 * over their lifecycle, through the real command path (so the demo's audit trail is real too).
 * Time is spread over the autumn of 2026, so National Day falls inside many deadlines.
 */
const REGIONS = [
  ['520102', '南明区'], ['520103', '云岩区'], ['520115', '观山湖区'], ['520302', '红花岗区'], ['520402', '西秀区'], ['522601', '凯里市'],
] as const;
const DEPARTMENTS = [
  ['SCJG', '市场监督管理局', '食品经营许可', 10, 'PROMISED'],
  ['ZJ', '住房和城乡建设局', '建筑工程施工许可', 15, 'PROMISED'],
  ['JT', '交通运输局', '道路运输证换发', 0, 'IMMEDIATE'],
  ['WJ', '卫生健康局', '医疗机构执业登记', 20, 'PROMISED'],
] as const;

export const seedDemo = async (deps: CaseDeps & { clock: { now(): Date } }, cases: number, log: (m: string) => void) => {
  const admin: Principal = { id: 'seed-admin', roles: ['admin'] };
  const items: { itemCode: string; dept: string; region: string }[] = [];
  for (const [region, regionName] of REGIONS) {
    for (const [code, deptName, itemName, days, type] of DEPARTMENTS) {
      const dept = `${region}-${code}`;
      const itemCode = `${region}${code}01`;
      await publishServiceItem(deps, {
        itemCode, name: itemName, itemType: '01', departmentCode: dept, departmentName: `${regionName}${deptName}`, regionCode: region,
        caseType: type, legalLimitDays: Math.max(days, 20), promisedLimitDays: days,
        materials: [{ name: '申请书', required: true }, { name: '身份证明', required: true }],
      }, { principal: admin, commandId: `seed-item-${itemCode}` });
      items.push({ itemCode, dept, region });
    }
  }
  log(`seed: ${items.length} service items`);
  let done = 0;
  const one = async (i: number) => {
    const item = items[i % items.length]!;
    const applicant: Principal = { id: `citizen-${i % 997}`, roles: ['applicant'] };
    const clerk: Principal = { id: `clerk-${item.dept}`, roles: ['clerk'], departmentCode: item.dept, regionCode: item.region };
    const reviewer: Principal = { id: `reviewer-${item.dept}`, roles: ['reviewer'], departmentCode: item.dept, regionCode: item.region };
    const submitted = await submitCase(deps, {
      itemCode: item.itemCode, channel: (['WINDOW', 'PC', 'MOBILE'] as const)[i % 3],
      applicant: { name: `演示申请人${i}`, idType: '111', idNumber: `52010219${String(80 + (i % 20)).padStart(2, '0')}0101${String(i % 10_000).padStart(4, '0')}`, phone: `139${String(i).padStart(8, '0').slice(-8)}` },
      materials: [{ name: '申请书', provided: true }, { name: '身份证明', provided: i % 7 !== 0 }],
    }, { principal: applicant, commandId: `seed-case-${i}` });
    const run = (input: CaseCommandInput, who: Principal) => handleCaseCommand(deps, submitted.caseId, input, { principal: who, commandId: `seed-${i}-${input.type}-${randomUUID().slice(0, 4)}` });
    const stage = i % 10;
    if (i % 7 === 0) {
      await run({ type: 'RequestCorrection', data: { missingMaterials: ['身份证明'], reason: '请补充身份证明' } }, clerk);
      if (stage < 3) return;
      await run({ type: 'SupplyCorrection', data: { materials: [{ name: '身份证明', provided: true }] } }, applicant);
    }
    if (stage === 0) return;
    if (stage === 1) return void (await run({ type: 'RejectCase', data: { reason: '不属于受理范围' } }, clerk));
    if (stage === 2) return void (await run({ type: 'WithdrawCase', data: { reason: '申请人撤回' } }, applicant));
    await run({ type: 'AcceptCase', data: {} }, clerk);
    if (stage === 3) return;
    if (stage === 4) return void (await run({ type: 'SuspendCase', data: { procedure: 'SITE_CHECK', reason: '实地核查', expectedWorkingDays: 5 } }, reviewer));
    for (const step of ['承办', '审核', '批准']) await run({ type: 'CompleteReviewStep', data: { step, action: 'PASS', opinion: '同意' } }, reviewer);
    if (stage === 5) return;
    await run({ type: 'DecideCase', data: stage === 6 ? { outcome: 'DENIED', reason: '条件不符' } : { outcome: 'APPROVED', licenceNumber: `JY${item.region}${String(i).padStart(6, '0')}` } }, reviewer);
    if (stage === 6) return;
    await run({ type: 'DeliverResult', data: { method: 'ELECTRONIC' } }, clerk);
    if (stage === 7) return;
    const score = stage === 8 ? 2 : 5;
    await run({ type: 'EvaluateCase', data: { score, comment: score < 3 ? '等待时间长' : '很满意' } }, applicant);
    if (score < 3 && i % 2 === 0) await run({ type: 'CompleteRectification', data: { reason: '已优化流程并回访' } }, clerk);
  };
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < cases) {
      await one(next++);
      if (++done % 500 === 0) log(`seed: ${done} / ${cases} cases`);
    }
  }));
  log(`seed: ${cases} cases filed`);
};
