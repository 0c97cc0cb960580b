import { randomUUID } from 'node:crypto';
import type { CaseDeps } from '../../application/cases.ts';
import type { Clock } from '../../application/ports.ts';
import type { Principal } from '../../domain/permissions.ts';
import type pg from 'pg';
import { createVault } from '../../application/personalData.ts';
import { getPostgresCaseNumbers } from '../../infrastructure/postgres/caseNumbers.ts';
import { getPostgresKeyRing } from '../../infrastructure/postgres/dataKeys.ts';
import type { createTestDatabase } from './db.ts';

/** A clock the test moves. */
export const testClock = (start: string): Clock & { set(iso: string): void; advanceDays(days: number): void } => {
  let now = new Date(start);
  return {
    now: () => new Date(now),
    set: (iso) => {
      now = new Date(iso);
    },
    advanceDays: (days) => {
      now = new Date(now.getTime() + days * 86_400_000);
    },
  };
};

export const writeSide = (db: Awaited<ReturnType<typeof createTestDatabase>>, clock: Clock): CaseDeps => ({
  store: db.newStore(),
  clock,
  ids: { uuid: () => randomUUID() },
  caseNumbers: getPostgresCaseNumbers(db.pool),
  vault: testVault(db.pool),
});

/** The tests' master key (never a real one) and a vault over the test schema's key table. */
export const TEST_MASTER_KEY = '00112233445566778899aabbccddeeff';
export const testVault = (pool: pg.Pool) => createVault({ masterKeyHex: TEST_MASTER_KEY, keys: getPostgresKeyRing(pool) });

export const DEPT = 'GY-MARKET';
export const REGION = '520102';

export const people = {
  admin: { id: 'admin-1', roles: ['admin'] },
  applicant: { id: 'applicant-1', roles: ['applicant'] },
  otherApplicant: { id: 'applicant-2', roles: ['applicant'] },
  clerk: { id: 'clerk-1', roles: ['clerk'], departmentCode: DEPT, regionCode: REGION },
  otherClerk: { id: 'clerk-9', roles: ['clerk'], departmentCode: 'OTHER-DEPT', regionCode: REGION },
  reviewer: { id: 'reviewer-1', roles: ['reviewer'], departmentCode: DEPT, regionCode: REGION },
  supervisor: { id: 'supervisor-1', roles: ['supervisor'], regionCode: '520100' },
  farSupervisor: { id: 'supervisor-9', roles: ['supervisor'], regionCode: '520300' },
} satisfies Record<string, Principal>;

export const itemInput = (itemCode = `ITEM-${randomUUID().slice(0, 8)}`) => ({
  itemCode,
  name: '食品经营许可',
  itemType: '01',
  departmentCode: DEPT,
  departmentName: '贵阳市南明区市场监督管理局',
  regionCode: REGION,
  caseType: 'PROMISED',
  legalLimitDays: 20,
  promisedLimitDays: 10,
  materials: [
    { name: '申请书', required: true },
    { name: '营业执照', required: true },
  ],
});

export const submitInput = (itemCode: string) => ({
  itemCode,
  applicant: { name: '张三', idType: '111', idNumber: '520102199001011234', phone: '13912342345', address: '贵阳市南明区' },
  materials: [
    { name: '申请书', provided: true },
    { name: '营业执照', provided: true },
  ],
  channel: 'PC',
});
