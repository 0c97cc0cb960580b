import type { CaseCommandType } from './case/commands.ts';
import { regionCovers } from './region.ts';

/**
 * The permission policy, pure: (principal, action, the case's department/region/owner) → allowed or
 * the reason it is not. The API asks it before every command and filters every query with it.
 */
export const roles = ['applicant', 'clerk', 'reviewer', 'supervisor', 'auditor', 'admin'] as const;
/** `system` is the deadline clock and other processes of govcase itself; no token can carry it. */
export type Role = (typeof roles)[number] | 'system';

export interface Principal {
  readonly id: string;
  readonly roles: readonly Role[];
  readonly departmentCode?: string | undefined;
  readonly regionCode?: string | undefined;
  readonly name?: string | undefined;
}

export interface CaseTarget {
  readonly departmentCode: string;
  readonly regionCode: string;
  readonly ownerId: string | null;
}

export type PolicyDecision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

type Scope = 'own' | 'department' | 'region' | 'any';
type Grant = readonly [Role, Scope];

const clerkDept: Grant = ['clerk', 'department'];
const reviewerDept: Grant = ['reviewer', 'department'];
const owner: Grant = ['applicant', 'own'];
const system: Grant = ['system', 'any'];

/** The table of domain.md "People and what they may do". */
export const caseCommandGrants: Readonly<Record<CaseCommandType, readonly Grant[]>> = {
  SubmitCase: [['applicant', 'any'], clerkDept],
  RequestCorrection: [clerkDept],
  SupplyCorrection: [owner],
  ExpireCorrection: [system],
  AcceptCase: [clerkDept],
  RejectCase: [clerkDept],
  CompleteReviewStep: [reviewerDept],
  SuspendCase: [reviewerDept],
  ResumeCase: [reviewerDept],
  ExtendDeadline: [reviewerDept],
  TransferCase: [reviewerDept],
  DecideCase: [reviewerDept],
  DeliverResult: [clerkDept],
  WithdrawCase: [owner],
  EvaluateCase: [owner],
  CompleteRectification: [clerkDept, reviewerDept],
  RaiseDeadlineWarning: [system],
  MarkDeadlineExceeded: [system],
  IssueSupervisionNotice: [['supervisor', 'region']],
  AnswerSupervisionNotice: [clerkDept, reviewerDept],
  FlagRectificationOverdue: [system],
  FlagSupervisionNoticeOverdue: [system],
  EraseApplicantData: [['admin', 'any']],
};

const inScope = (p: Principal, scope: Scope, t: CaseTarget): boolean => {
  switch (scope) {
    case 'any':
      return true;
    case 'own':
      return t.ownerId !== null && t.ownerId === p.id;
    case 'department':
      return p.departmentCode !== undefined && p.departmentCode === t.departmentCode;
    case 'region':
      return p.regionCode !== undefined && regionCovers(p.regionCode, t.regionCode);
    default: {
      const never: never = scope;
      return never;
    }
  }
};

const describe = (grants: readonly Grant[]) =>
  grants.map(([r, s]) => (s === 'any' ? r : `${r} (${s === 'own' ? 'own case' : `same ${s}`})`)).join(' or ');

export const authorizeCaseCommand = (p: Principal, command: CaseCommandType, target: CaseTarget): PolicyDecision => {
  const grants = caseCommandGrants[command];
  const roleGrants = grants.filter(([role]) => p.roles.includes(role));
  if (roleGrants.length === 0) return { allowed: false, reason: `${command} needs the role ${describe(grants)}` };
  if (roleGrants.some(([, scope]) => inScope(p, scope, target))) return { allowed: true };
  return { allowed: false, reason: `${command} is allowed only to ${describe(roleGrants)}; this case is outside your scope` };
};

export const authorizeItemPublication = (p: Principal): PolicyDecision =>
  p.roles.includes('admin') ? { allowed: true } : { allowed: false, reason: 'publishing service items needs the admin role' };

/** Who may read a case at all. */
export const canReadCase = (p: Principal, t: CaseTarget): boolean =>
  p.roles.some((role) => {
    switch (role) {
      case 'applicant':
        return inScope(p, 'own', t);
      case 'clerk':
      case 'reviewer':
        return inScope(p, 'department', t);
      case 'supervisor':
        return inScope(p, 'region', t);
      case 'auditor':
      case 'admin':
      case 'system':
        return true;
      default: {
        const never: never = role;
        return never;
      }
    }
  });

/** Personal data in the clear: the applicant and the handling department; everyone else sees it masked. */
export const seesPersonalData = (p: Principal, t: CaseTarget): boolean =>
  (p.roles.includes('applicant') && inScope(p, 'own', t)) ||
  ((p.roles.includes('clerk') || p.roles.includes('reviewer')) && inScope(p, 'department', t));

/** Raw event streams and the global log: auditors (and admins). */
export const canReadEventLog = (p: Principal): boolean => p.roles.includes('auditor') || p.roles.includes('admin');
