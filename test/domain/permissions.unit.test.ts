import { describe, it, expect } from 'vitest';
import { caseCommandTypes, type CaseCommandType } from '../../domain/case/commands.ts';
import { systemCommands } from '../../domain/case/decide.ts';
import {
  authorizeCaseCommand, authorizeItemPublication, canReadCase, canReadEventLog, roles, seesPersonalData,
  type CaseTarget, type Principal, type Role,
} from '../../domain/permissions.ts';
import { isRegionCode, regionCovers, regionPrefix } from '../../domain/region.ts';

/*
 * The table of domain.md "People and what they may do", written out here on its own (not read from
 * permissions.ts), and the whole matrix role × command × scope generated from it.
 */
type Scope = 'any' | 'own' | 'department' | 'region';
const may: Readonly<Record<Role, readonly { readonly scope: Scope; readonly commands: readonly CaseCommandType[] }[]>> = {
  // submit, supply correction, withdraw, rate: own cases (a new case is theirs by construction)
  applicant: [
    { scope: 'any', commands: ['SubmitCase'] },
    { scope: 'own', commands: ['SupplyCorrection', 'WithdrawCase', 'EvaluateCase'] },
  ],
  // submit at the window, accept, reject, request correction, deliver, report rectification, answer 督办: own department
  clerk: [{
    scope: 'department',
    commands: ['SubmitCase', 'AcceptCase', 'RejectCase', 'RequestCorrection', 'DeliverResult', 'CompleteRectification', 'AnswerSupervisionNotice'],
  }],
  // complete steps, suspend/resume, extend, decide, transfer, report rectification, answer 督办: own department
  reviewer: [{
    scope: 'department',
    commands: ['CompleteReviewStep', 'SuspendCase', 'ResumeCase', 'ExtendDeadline', 'DecideCase', 'TransferCase', 'CompleteRectification', 'AnswerSupervisionNotice'],
  }],
  // issue 督办 notices in their region
  supervisor: [{ scope: 'region', commands: ['IssueSupervisionNotice'] }],
  // reads and verifies only
  auditor: [],
  // erase personal data on a lawful request (publishing items is not a case command)
  admin: [{ scope: 'any', commands: ['EraseApplicantData'] }],
  // the deadline clock
  system: [{ scope: 'any', commands: ['ExpireCorrection', 'RaiseDeadlineWarning', 'MarkDeadlineExceeded', 'FlagRectificationOverdue', 'FlagSupervisionNoticeOverdue'] }],
};

const ME = 'user-zhangsan';
const DEPT = '11520102MB1234567X';
const OTHER_DEPT = '11520302MB7654321Y';

const principals: Readonly<Record<Role, Principal>> = {
  applicant: { id: ME, roles: ['applicant'], name: '张三' },
  clerk: { id: 'clerk-1', roles: ['clerk'], departmentCode: DEPT, regionCode: '520102' },
  reviewer: { id: 'reviewer-1', roles: ['reviewer'], departmentCode: DEPT, regionCode: '520102' },
  supervisor: { id: 'supervisor-1', roles: ['supervisor'], regionCode: '520100' },
  auditor: { id: 'auditor-1', roles: ['auditor'] },
  admin: { id: 'admin-1', roles: ['admin'] },
  system: { id: 'system:deadline-clock', roles: ['system'] },
};
const allRoles = [...roles, 'system'] as const satisfies readonly Role[];

/** Each target says which scopes of the principals above it is in. */
const inside: CaseTarget = { departmentCode: DEPT, regionCode: '520102', ownerId: ME };
const targets: readonly { readonly name: string; readonly target: CaseTarget; readonly in: Readonly<Record<Scope, boolean>> }[] = [
  { name: 'own case, same department, region covered', target: inside, in: { any: true, own: true, department: true, region: true } },
  { name: "someone else's case", target: { ...inside, ownerId: 'user-lisi' }, in: { any: true, own: false, department: true, region: true } },
  { name: 'a window case (no owner account)', target: { ...inside, ownerId: null }, in: { any: true, own: false, department: true, region: true } },
  { name: 'another department', target: { ...inside, departmentCode: OTHER_DEPT }, in: { any: true, own: true, department: false, region: true } },
  { name: 'another prefecture (遵义 520302)', target: { ...inside, regionCode: '520302' }, in: { any: true, own: true, department: true, region: false } },
];

const expected = (role: Role, command: CaseCommandType, inScope: Readonly<Record<Scope, boolean>>): boolean =>
  may[role].some((g) => g.commands.includes(command) && inScope[g.scope]);

describe('authorizeCaseCommand: role × command × scope', () => {
  it('the table names only real commands, and every command someone may issue', () => {
    const granted = new Set(Object.values(may).flatMap((gs) => gs.flatMap((g) => g.commands)));
    for (const c of granted) expect(caseCommandTypes).toContain(c);
    expect([...granted].sort()).toEqual([...caseCommandTypes].sort());
  });

  for (const role of allRoles) {
    for (const command of caseCommandTypes) {
      it(`${role} × ${command}`, () => {
        for (const { name, target, in: scopes } of targets) {
          const verdict = authorizeCaseCommand(principals[role], command, target);
          expect(verdict.allowed, `${role} ${command} on ${name}`).toBe(expected(role, command, scopes));
          if (!verdict.allowed) expect(verdict.reason.length).toBeGreaterThan(0);
        }
      });
    }
  }

  it('the deadline-clock commands are exactly the system ones, and no token role is system', () => {
    const systemOnly = caseCommandTypes.filter((c) => may.system[0]!.commands.includes(c));
    expect(systemOnly.sort()).toEqual([...systemCommands].sort());
    expect(roles).not.toContain('system');
  });

  it('a principal with several roles gets the union', () => {
    const both: Principal = { id: 'u-9', roles: ['clerk', 'reviewer'], departmentCode: DEPT };
    expect(authorizeCaseCommand(both, 'AcceptCase', inside).allowed).toBe(true);
    expect(authorizeCaseCommand(both, 'DecideCase', inside).allowed).toBe(true);
    expect(authorizeCaseCommand(both, 'DecideCase', { ...inside, departmentCode: OTHER_DEPT }).allowed).toBe(false);
    const applicantClerk: Principal = { id: ME, roles: ['applicant', 'clerk'], departmentCode: OTHER_DEPT };
    // own case in another department: may withdraw as the applicant, may not accept as a clerk
    expect(authorizeCaseCommand(applicantClerk, 'WithdrawCase', inside).allowed).toBe(true);
    expect(authorizeCaseCommand(applicantClerk, 'AcceptCase', inside).allowed).toBe(false);
  });

  it('a missing department or region claim is out of scope, never a wildcard', () => {
    expect(authorizeCaseCommand({ id: 'c', roles: ['clerk'] }, 'AcceptCase', inside).allowed).toBe(false);
    expect(authorizeCaseCommand({ id: 'r', roles: ['reviewer'] }, 'DecideCase', inside).allowed).toBe(false);
    expect(authorizeCaseCommand({ id: 's', roles: ['supervisor'] }, 'IssueSupervisionNotice', inside).allowed).toBe(false);
    expect(authorizeCaseCommand({ id: 's', roles: ['supervisor'], regionCode: '52' }, 'IssueSupervisionNotice', inside).allowed).toBe(false);
    expect(authorizeCaseCommand({ id: 'x', roles: [] }, 'SubmitCase', inside).allowed).toBe(false);
  });

  describe('supervisors by the level of their region (GB/T 2260)', () => {
    // supervisor region → target region → may issue 督办
    const cases: readonly [string, string, boolean][] = [
      ['520000', '520102', true], ['520000', '520302', true], ['520000', '520000', true], ['520000', '510104', false],
      ['520100', '520102', true], ['520100', '520199', true], ['520100', '520100', true], ['520100', '520302', false], ['520100', '520000', false],
      ['520102', '520102', true], ['520102', '520103', false], ['520102', '520100', false], ['520102', '520000', false],
    ];
    for (const [scope, region, allowed] of cases) {
      it(`${scope} ${allowed ? 'covers' : 'does not cover'} ${region}`, () => {
        const p: Principal = { id: 's', roles: ['supervisor'], regionCode: scope };
        expect(authorizeCaseCommand(p, 'IssueSupervisionNotice', { ...inside, regionCode: region }).allowed).toBe(allowed);
        expect(canReadCase(p, { ...inside, regionCode: region })).toBe(allowed);
      });
    }
  });
});

describe('authorizeItemPublication', () => {
  it('is for admins only', () => {
    for (const role of allRoles) expect(authorizeItemPublication(principals[role]).allowed, role).toBe(role === 'admin');
  });
});

describe('reads', () => {
  // role → which scope lets it read the case; null: every case
  const readScope: Readonly<Record<Role, Scope | 'all'>> = {
    applicant: 'own', clerk: 'department', reviewer: 'department', supervisor: 'region', auditor: 'all', admin: 'all', system: 'all',
  };
  const clear: Readonly<Record<Role, Scope | 'never'>> = {
    applicant: 'own', clerk: 'department', reviewer: 'department', supervisor: 'never', auditor: 'never', admin: 'never', system: 'never',
  };

  for (const role of allRoles) {
    it(`canReadCase and seesPersonalData for ${role}`, () => {
      for (const { name, target, in: scopes } of targets) {
        const r = readScope[role];
        expect(canReadCase(principals[role], target), `${role} reads ${name}`).toBe(r === 'all' ? true : scopes[r]);
        const c = clear[role];
        expect(seesPersonalData(principals[role], target), `${role} sees personal data of ${name}`).toBe(c === 'never' ? false : scopes[c]);
      }
    });
  }

  it('personal data in the clear never reaches a reader who cannot read the case', () => {
    for (const role of allRoles)
      for (const { target } of targets)
        if (seesPersonalData(principals[role], target)) expect(canReadCase(principals[role], target)).toBe(true);
  });

  it('canReadEventLog: auditors and admins only', () => {
    for (const role of allRoles) expect(canReadEventLog(principals[role]), role).toBe(role === 'auditor' || role === 'admin');
  });
});

describe('regionCovers (GB/T 2260)', () => {
  it('a province (520000) covers every 52xxxx, itself included', () => {
    for (const r of ['520000', '520100', '520102', '520302', '522301', '529900']) expect(regionCovers('520000', r), r).toBe(true);
    for (const r of ['510000', '510104', '530102', '500000', '420000']) expect(regionCovers('520000', r), r).toBe(false);
  });

  it('a prefecture (520100 贵阳市) covers every 5201xx, itself included', () => {
    for (const r of ['520100', '520102', '520103', '520115', '520199']) expect(regionCovers('520100', r), r).toBe(true);
    for (const r of ['520000', '520200', '520302', '510102', '521000']) expect(regionCovers('520100', r), r).toBe(false);
  });

  it('a county (520102 南明区) covers only itself', () => {
    expect(regionCovers('520102', '520102')).toBe(true);
    for (const r of ['520103', '520100', '520000', '520120', '510102']) expect(regionCovers('520102', r), r).toBe(false);
  });

  it('is false for anything that is not a 6-digit code', () => {
    for (const [s, r] of [['52', '520102'], ['520000', '5201'], ['5200000', '520102'], ['520100', 'abcdef'], ['', ''], ['520000', ' 520102']])
      expect(regionCovers(s!, r!), `${s} ${r}`).toBe(false);
    expect(isRegionCode('520102')).toBe(true);
    expect(isRegionCode('52010a')).toBe(false);
  });

  it('regionPrefix selects the same regions as regionCovers', () => {
    expect(regionPrefix('520000')).toBe('52');
    expect(regionPrefix('520100')).toBe('5201');
    expect(regionPrefix('520102')).toBe('520102');
    for (const scope of ['520000', '520100', '520102'])
      for (const region of ['520000', '520100', '520102', '520103', '520302', '510104'])
        expect(region.startsWith(regionPrefix(scope)), `${scope} ${region}`).toBe(regionCovers(scope, region));
  });
});
