import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClock } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';
import { codes, gql, startTestServer, token, type GqlResponse } from '../support/server.ts';

/**
 * The permission matrix of the GraphQL API, over HTTP, generated from ONE table (MATRIX below):
 * every role × every mutation of the contract × in scope / out of scope → allowed or FORBIDDEN.
 * Each cell gets a subject of its own, prepared (over HTTP, by the people who may) in the state
 * where the mutation is valid, so that "allowed" really succeeds and the only possible refusal is
 * the permission; a refused cell must leave the subject's stream exactly as it was.
 * Then the read side: the auditor-only log queries, statistics and supervision scopes, the `cases`
 * list per role, out-of-scope reads as null, and masking of personal data.
 */

const DEPT = 'PM-DEPT-A';
const OTHER_DEPT = 'PM-DEPT-B';
const TRANSFER_TO = 'PM-DEPT-C';
const REGION = '520102';

const ROLES = ['applicant', 'clerk', 'reviewer', 'supervisor', 'auditor', 'admin'] as const;
type RoleName = (typeof ROLES)[number];
const SIDES = ['in', 'out'] as const;
type Side = (typeof SIDES)[number];
type Claims = { sub: string; roles: string[]; dept?: string; region?: string };

/**
 * For each role, a principal inside the subject's scope and one outside it: the case's own applicant
 * vs another applicant; the handling department vs another department (same region); a supervisor of
 * the covering prefecture vs another prefecture. Auditors and admins have no case scope; their two
 * principals differ only in claims the policy must ignore.
 */
const PRINCIPALS: Record<RoleName, Record<Side, Claims>> = {
  applicant: { in: { sub: 'pm-citizen-owner', roles: ['applicant'] }, out: { sub: 'pm-citizen-other', roles: ['applicant'] } },
  clerk: { in: { sub: 'pm-clerk-a', roles: ['clerk'], dept: DEPT, region: REGION }, out: { sub: 'pm-clerk-b', roles: ['clerk'], dept: OTHER_DEPT, region: REGION } },
  reviewer: { in: { sub: 'pm-reviewer-a', roles: ['reviewer'], dept: DEPT, region: REGION }, out: { sub: 'pm-reviewer-b', roles: ['reviewer'], dept: OTHER_DEPT, region: REGION } },
  supervisor: { in: { sub: 'pm-sup-gy', roles: ['supervisor'], region: '520100' }, out: { sub: 'pm-sup-zy', roles: ['supervisor'], region: '520300' } },
  auditor: { in: { sub: 'pm-auditor-1', roles: ['auditor'], region: '520100' }, out: { sub: 'pm-auditor-2', roles: ['auditor'], dept: OTHER_DEPT, region: '520300' } },
  admin: { in: { sub: 'pm-admin-1', roles: ['admin'], region: '520100' }, out: { sub: 'pm-admin-2', roles: ['admin'], dept: OTHER_DEPT, region: '520300' } },
};

/** What a cell acts on: the stream that must stay unchanged when it is refused, and what its input needs. */
interface Subject {
  readonly streamId: string | null;
  readonly caseId?: string;
  readonly noticeId?: string;
  readonly itemCode?: string;
  readonly idNumber?: string;
}

interface Row {
  /** who may: `in` = only within their scope, `any` = wherever; a role not named here is FORBIDDEN */
  readonly may: Partial<Record<RoleName, 'in' | 'any'>>;
  readonly inputType: string | null;
  readonly select: string;
  /** a fresh subject in the state where the mutation is valid */
  readonly prepare: () => Promise<Subject>;
  readonly input: (s: Subject) => Record<string, unknown>;
}

// ---- preparation over HTTP (filled in beforeAll) ----
let url = '';
const tokens = {} as Record<RoleName, Record<Side, string>> & { auditorReader: string };
let itemCode = '';

const must = async (mutation: string, inputType: string, input: Record<string, unknown>, bearer: string) => {
  const r = await gql(url, `mutation($input: ${inputType}!) { ${mutation}(input: $input) { caseId version events { type data } } }`, { input }, bearer);
  if (r.errors) throw new Error(`preparing ${mutation}: ${JSON.stringify(r.errors)}`);
  return r.data![mutation] as { caseId: string; version: number; events: { type: string; data: Record<string, unknown> }[] };
};
const owner = () => tokens.applicant.in;
const clerk = () => tokens.clerk.in;
const reviewer = () => tokens.reviewer.in;

const applicantInput = (idNumber = '520102199001011234') => ({ name: '张三丰', idType: '111', idNumber, phone: '13912342345', address: '贵阳市南明区花果园' });
const submitted = async (idNumber?: string): Promise<Subject> => {
  const caseId = randomUUID();
  await must('submitCase', 'SubmitCaseInput', {
    itemCode, caseId, channel: 'PC', applicant: applicantInput(idNumber),
    materials: [{ name: '申请书', provided: true }, { name: '营业执照', provided: true }],
  }, owner());
  return { streamId: `case-${caseId}`, caseId };
};
const accepted = async () => {
  const s = await submitted();
  await must('acceptCase', 'CaseCommandInput', { caseId: s.caseId }, clerk());
  return s;
};
const allStepsPassed = async () => {
  const s = await accepted();
  for (const step of ['承办', '审核', '批准'])
    await must('completeReviewStep', 'CompleteReviewStepInput', { caseId: s.caseId, step, action: 'PASS', opinion: '同意' }, reviewer());
  return s;
};
const decided = async () => {
  const s = await allStepsPassed();
  await must('decideCase', 'DecideCaseInput', { caseId: s.caseId, outcome: 'APPROVED', licenceNumber: 'JY0001' }, reviewer());
  return s;
};
const rejected = async () => {
  const s = await submitted();
  await must('rejectCase', 'ReasonedCommandInput', { caseId: s.caseId, reason: '不属于受理范围' }, clerk());
  return s;
};

/** THE table: every mutation of the contract, who may do it, and how to reach the state where it is valid. */
const MATRIX: Record<string, Row> = {
  publishServiceItem: {
    may: { admin: 'any' }, inputType: 'ServiceItemInput', select: 'itemCode version',
    prepare: async () => {
      const code = `PM-NEW-${randomUUID().slice(0, 8)}`;
      return { streamId: `item-${code}`, itemCode: code };
    },
    input: (s) => ({
      itemCode: s.itemCode, name: '新事项', itemType: '01', departmentCode: DEPT, departmentName: '甲局', regionCode: REGION,
      caseType: 'PROMISED', legalLimitDays: 20, promisedLimitDays: 10,
    }),
  },
  submitCase: {
    may: { applicant: 'any', clerk: 'in' }, inputType: 'SubmitCaseInput', select: 'caseId version',
    prepare: async () => {
      const caseId = randomUUID();
      return { streamId: `case-${caseId}`, caseId };
    },
    input: (s) => ({ itemCode, caseId: s.caseId, channel: 'WINDOW', applicant: applicantInput(), materials: [{ name: '申请书', provided: true }] }),
  },
  requestCorrection: {
    may: { clerk: 'in' }, inputType: 'RequestCorrectionInput', select: 'caseId version',
    prepare: submitted,
    input: (s) => ({ caseId: s.caseId, missingMaterials: ['营业执照'], reason: '请补正' }),
  },
  supplyCorrection: {
    may: { applicant: 'in' }, inputType: 'SupplyCorrectionInput', select: 'caseId version',
    prepare: async () => {
      const s = await submitted();
      await must('requestCorrection', 'RequestCorrectionInput', { caseId: s.caseId, missingMaterials: ['营业执照'], reason: '请补正' }, clerk());
      return s;
    },
    input: (s) => ({ caseId: s.caseId, materials: [{ name: '营业执照', provided: true }] }),
  },
  acceptCase: { may: { clerk: 'in' }, inputType: 'CaseCommandInput', select: 'caseId version', prepare: submitted, input: (s) => ({ caseId: s.caseId }) },
  rejectCase: {
    may: { clerk: 'in' }, inputType: 'ReasonedCommandInput', select: 'caseId version',
    prepare: submitted, input: (s) => ({ caseId: s.caseId, reason: '不予受理' }),
  },
  completeReviewStep: {
    may: { reviewer: 'in' }, inputType: 'CompleteReviewStepInput', select: 'caseId version',
    prepare: accepted, input: (s) => ({ caseId: s.caseId, step: '承办', action: 'PASS', opinion: '同意' }),
  },
  suspendCase: {
    may: { reviewer: 'in' }, inputType: 'SuspendCaseInput', select: 'caseId version',
    prepare: accepted, input: (s) => ({ caseId: s.caseId, procedure: 'SITE_CHECK', reason: '实地核查', expectedWorkingDays: 3 }),
  },
  resumeCase: {
    may: { reviewer: 'in' }, inputType: 'ResumeCaseInput', select: 'caseId version',
    prepare: async () => {
      const s = await accepted();
      await must('suspendCase', 'SuspendCaseInput', { caseId: s.caseId, procedure: 'HEARING', reason: '听证', expectedWorkingDays: 2 }, reviewer());
      return s;
    },
    input: (s) => ({ caseId: s.caseId, result: '听证完毕' }),
  },
  extendDeadline: {
    may: { reviewer: 'in' }, inputType: 'ExtendDeadlineInput', select: 'caseId version',
    prepare: accepted, input: (s) => ({ caseId: s.caseId, workingDays: 5, reason: '情况复杂' }),
  },
  transferCase: {
    may: { reviewer: 'in' }, inputType: 'TransferCaseInput', select: 'caseId version',
    prepare: accepted, input: (s) => ({ caseId: s.caseId, toDepartmentCode: TRANSFER_TO, reason: '转办' }),
  },
  decideCase: {
    may: { reviewer: 'in' }, inputType: 'DecideCaseInput', select: 'caseId version',
    prepare: allStepsPassed, input: (s) => ({ caseId: s.caseId, outcome: 'APPROVED', licenceNumber: 'JY0002' }),
  },
  deliverResult: {
    may: { clerk: 'in' }, inputType: 'DeliverResultInput', select: 'caseId version',
    prepare: decided, input: (s) => ({ caseId: s.caseId, method: 'WINDOW' }),
  },
  withdrawCase: {
    may: { applicant: 'in' }, inputType: 'ReasonedCommandInput', select: 'caseId version',
    prepare: submitted, input: (s) => ({ caseId: s.caseId, reason: '不再需要' }),
  },
  evaluateCase: {
    may: { applicant: 'in' }, inputType: 'EvaluateCaseInput', select: 'caseId version',
    prepare: rejected, input: (s) => ({ caseId: s.caseId, score: 4, comment: '还行' }),
  },
  completeRectification: {
    may: { clerk: 'in', reviewer: 'in' }, inputType: 'ReasonedCommandInput', select: 'caseId version',
    prepare: async () => {
      const s = await rejected();
      await must('evaluateCase', 'EvaluateCaseInput', { caseId: s.caseId, score: 1, comment: '差' }, owner());
      return s;
    },
    input: (s) => ({ caseId: s.caseId, reason: '已整改并回访' }),
  },
  issueSupervisionNotice: {
    may: { supervisor: 'in' }, inputType: 'SupervisionNoticeInput', select: 'caseId version',
    prepare: submitted, input: (s) => ({ caseId: s.caseId, content: '请说明进度', replyWithinWorkingDays: 2 }),
  },
  answerSupervisionNotice: {
    may: { clerk: 'in', reviewer: 'in' }, inputType: 'AnswerSupervisionNoticeInput', select: 'caseId version',
    prepare: async () => {
      const s = await submitted();
      const r = await must('issueSupervisionNotice', 'SupervisionNoticeInput', { caseId: s.caseId, content: '请说明进度', replyWithinWorkingDays: 2, commandId: randomUUID() }, tokens.supervisor.in);
      return { ...s, noticeId: String(r.events[0]!.data.noticeId) };
    },
    input: (s) => ({ caseId: s.caseId, noticeId: s.noticeId, answer: '正在办理' }),
  },
  eraseApplicantData: {
    may: { admin: 'any' }, inputType: 'EraseApplicantDataInput', select: 'subjectsErased casesAffected',
    prepare: async () => {
      // a subject of its own, in the read model (erasure finds the subject's cases there)
      const idNumber = `5201021990${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
      const s = await submitted(idNumber);
      const r = await gql(url, `query($id: ID!) { case(id: $id, atLeastVersion: 0) { id } }`, { id: s.caseId }, tokens.admin.in);
      if (!r.data?.case) throw new Error(`the case did not reach the read model: ${JSON.stringify(r)}`);
      return { ...s, idNumber };
    },
    input: (s) => ({ subjectIdNumber: s.idNumber, legalBasis: '个人信息保护法第四十七条' }),
  },
  createIntegrityCheckpoint: {
    may: { auditor: 'any', admin: 'any' }, inputType: null, select: 'id position merkleRoot',
    prepare: async () => ({ streamId: null }),
    input: () => ({}),
  },
  retryExchangeDeadLetters: {
    // returns a count (Int!): no selection set
    may: { admin: 'any' }, inputType: null, select: '',
    prepare: async () => ({ streamId: null }),
    input: () => ({}),
  },
};

const expected = (mutation: string, role: RoleName, side: Side): 'allowed' | 'FORBIDDEN' => {
  const grant = MATRIX[mutation]!.may[role];
  return grant === 'any' || (grant === 'in' && side === 'in') ? 'allowed' : 'FORBIDDEN';
};

interface CellOutcome {
  subject?: Subject;
  response?: GqlResponse;
  before?: unknown;
  after?: unknown;
  error?: unknown;
}

/** The subject's stream as an auditor reads it (or the checkpoints, for the checkpoint mutation). */
const snapshot = async (s: Subject) => {
  const r = s.streamId === null
    ? await gql(url, `{ integrityCheckpoints(last: 100) { id } }`, {}, tokens.auditorReader)
    : await gql(url, `query($s: String!) { stream(streamId: $s, limit: 1000) { revision type hash } }`, { s: s.streamId }, tokens.auditorReader);
  if (r.errors) throw new Error(`snapshot: ${JSON.stringify(r.errors)}`);
  return s.streamId === null ? r.data!.integrityCheckpoints : r.data!.stream;
};

const limited = async <T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> => {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  }));
  return results;
};

describe('permissions over HTTP', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  const clock = testClock('2026-03-02T09:00:00+08:00');
  const outcomes = new Map<string, CellOutcome>();
  const key = (m: string, r: RoleName, s: Side) => `${m}/${r}/${s}`;

  const publish = async (input: Record<string, unknown>) => {
    const r = await gql(url, `mutation($input: ServiceItemInput!) { publishServiceItem(input: $input) { itemCode } }`, { input }, tokens.admin.in);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
  };

  beforeAll(async () => {
    db = await createTestDatabase('e2e_perm');
    server = await startTestServer(db, { clock });
    url = server.url;
    for (const role of ROLES) tokens[role] = { in: await token(PRINCIPALS[role].in), out: await token(PRINCIPALS[role].out) };
    tokens.auditorReader = await token({ sub: 'pm-auditor-reader', roles: ['auditor'] });
    itemCode = `PM-${randomUUID().slice(0, 8)}`;
    await publish({
      itemCode, name: '食品经营许可', itemType: '01', departmentCode: DEPT, departmentName: '甲局', regionCode: REGION,
      caseType: 'PROMISED', legalLimitDays: 20, promisedLimitDays: 10,
      materials: [{ name: '申请书', provided: true }, { name: '营业执照', provided: true }],
    });
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  it('the table covers every mutation of the served contract, and nothing else', async () => {
    const r = await gql(url, `{ __type(name: "Mutation") { fields { name } } }`);
    const served = (r.data!.__type as { fields: { name: string }[] }).fields.map((f) => f.name).sort();
    expect(Object.keys(MATRIX).sort()).toEqual(served);
  });

  describe('mutations: role × scope → allowed or FORBIDDEN', () => {
    beforeAll(async () => {
      const cells = Object.keys(MATRIX).flatMap((m) => ROLES.flatMap((r) => SIDES.map((s) => ({ m, r, s }))));
      // 1. every subject, prepared concurrently
      await limited(16, cells.map(({ m, r, s }) => async () => {
        const o: CellOutcome = {};
        outcomes.set(key(m, r, s), o);
        try {
          o.subject = await MATRIX[m]!.prepare();
        } catch (err) {
          o.error = err;
        }
      }));
      // 2. the refused cells first (their "nothing changed" must not see an allowed cell's checkpoint), then the allowed
      const attempt = (m: string, r: RoleName, s: Side) => async () => {
        const o = outcomes.get(key(m, r, s))!;
        if (!o.subject) return;
        try {
          const row = MATRIX[m]!;
          o.before = await snapshot(o.subject);
          const doc = row.inputType
            ? `mutation($input: ${row.inputType}!) { ${m}(input: $input) { ${row.select} } }`
            : `mutation { ${m}${row.select ? ` { ${row.select} }` : ''} }`;
          o.response = await gql(url, doc, row.inputType ? { input: row.input(o.subject) } : {}, tokens[r][s]);
          o.after = await snapshot(o.subject);
        } catch (err) {
          o.error = err;
        }
      };
      await limited(16, cells.filter((c) => expected(c.m, c.r, c.s) === 'FORBIDDEN').map((c) => attempt(c.m, c.r, c.s)));
      await limited(16, cells.filter((c) => expected(c.m, c.r, c.s) === 'allowed').map((c) => attempt(c.m, c.r, c.s)));
    });

    for (const mutation of Object.keys(MATRIX)) {
      describe(mutation, () => {
        for (const role of ROLES) {
          for (const side of SIDES) {
            const verdict = expected(mutation, role, side);
            it(`${role} (${side === 'in' ? 'in scope' : 'out of scope'}) → ${verdict}`, () => {
              const o = outcomes.get(key(mutation, role, side));
              if (!o || o.error) throw o?.error ?? new Error('not run');
              const r = o.response!;
              if (verdict === 'FORBIDDEN') {
                expect(codes(r), JSON.stringify(r.errors)).toEqual(['FORBIDDEN']);
                expect(r.data?.[mutation] ?? null).toBeNull();
                expect(r.status).toBeLessThan(500);
                expect(o.after, 'a refused command changed nothing').toEqual(o.before);
                return;
              }
              if (mutation === 'createIntegrityCheckpoint' && codes(r)[0] === 'UNAVAILABLE') {
                // not implemented yet (the audit & privacy issue); the permission itself is what this cell checks
                expect(codes(r)).not.toContain('FORBIDDEN');
                return;
              }
              expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
              expect(r.data![mutation] ?? null).not.toBeNull();
              if (o.subject!.streamId !== null)
                expect((o.after as unknown[]).length, 'an allowed command appended').toBeGreaterThan((o.before as unknown[]).length);
              if (mutation === 'eraseApplicantData') expect(r.data![mutation]).toEqual({ subjectsErased: 1, casesAffected: 1 });
            });
          }
        }
      });
    }
  });

  // ------------------------------------------------------------------------------------------
  // The read side
  // ------------------------------------------------------------------------------------------
  describe('queries', () => {
    // fixtures of their own, away from the matrix's department and region
    const QA = 'PQ-DEPT-A'; // region 522301 (prefecture 522300)
    const QB = 'PQ-DEPT-B'; // region 522701 (prefecture 522700)
    const ID_OWNER = '522301199001011234';
    const ID_OTHER = '522301198512125678';
    const q = {} as Record<
      'owner' | 'other' | 'clerkA' | 'reviewerA' | 'clerkB' | 'reviewerB' | 'supA' | 'supB' | 'supProvince' | 'auditor' | 'admin' | 'noScopeClerk',
      string
    >;
    const c = {} as Record<'c1' | 'c2' | 'c3' | 'c4', string>;
    let itemA = '';
    let itemB = '';

    const caseIds = async (bearer: string, filter: Record<string, unknown> = {}) => {
      const r = await gql(url, `query($f: CaseFilter) { cases(filter: $f, first: 100) { totalCount edges { node { id } } } }`, { f: filter }, bearer);
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      const conn = r.data!.cases as { totalCount: number; edges: { node: { id: string } }[] };
      return { total: conn.totalCount, ids: conn.edges.map((e) => e.node.id).sort() };
    };
    const sorted = (...ids: string[]) => [...ids].sort();

    beforeAll(async () => {
      q.owner = await token({ sub: 'pq-citizen-1', roles: ['applicant'] });
      q.other = await token({ sub: 'pq-citizen-2', roles: ['applicant'] });
      q.clerkA = await token({ sub: 'pq-clerk-a', roles: ['clerk'], dept: QA, region: '522301' });
      q.reviewerA = await token({ sub: 'pq-reviewer-a', roles: ['reviewer'], dept: QA, region: '522301' });
      q.clerkB = await token({ sub: 'pq-clerk-b', roles: ['clerk'], dept: QB, region: '522701' });
      q.reviewerB = await token({ sub: 'pq-reviewer-b', roles: ['reviewer'], dept: QB, region: '522701' });
      q.supA = await token({ sub: 'pq-sup-a', roles: ['supervisor'], region: '522300' });
      q.supB = await token({ sub: 'pq-sup-b', roles: ['supervisor'], region: '522700' });
      q.supProvince = await token({ sub: 'pq-sup-prov', roles: ['supervisor'], region: '520000' });
      q.auditor = await token({ sub: 'pq-auditor', roles: ['auditor'] });
      q.admin = await token({ sub: 'pq-admin', roles: ['admin'] });
      q.noScopeClerk = await token({ sub: 'pq-clerk-nodept', roles: ['clerk'] });
      itemA = `PQA-${randomUUID().slice(0, 8)}`;
      itemB = `PQB-${randomUUID().slice(0, 8)}`;
      const item = (code: string, dept: string, region: string) => ({
        itemCode: code, name: `事项${code}`, itemType: '01', departmentCode: dept, departmentName: dept, regionCode: region,
        caseType: 'PROMISED', legalLimitDays: 20, promisedLimitDays: 10, materials: [{ name: '申请书', provided: true }],
      });
      await publish(item(itemA, QA, '522301'));
      await publish(item(itemB, QB, '522701'));
      const file = async (code: string, bearer: string, idNumber: string) => (await must('submitCase', 'SubmitCaseInput', {
        itemCode: code, channel: 'MOBILE', commandId: randomUUID(),
        applicant: { name: '李四', idType: '111', idNumber, phone: '13800001111', address: '兴义市桔山街道' },
        materials: [{ name: '申请书', provided: true }],
      }, bearer)).caseId;
      c.c1 = await file(itemA, q.owner, ID_OWNER);
      c.c2 = await file(itemA, q.owner, ID_OWNER);
      c.c3 = await file(itemB, q.owner, ID_OWNER);
      c.c4 = await file(itemA, q.other, ID_OTHER);
      await must('acceptCase', 'CaseCommandInput', { caseId: c.c2 }, q.clerkA);
      await must('acceptCase', 'CaseCommandInput', { caseId: c.c3 }, q.clerkB);
      const caughtUp = await server.runner.waitFor('cases', async () => (await server.runner.status()).every((s) => s.lag === 0), 20_000);
      expect(caughtUp).toBe(true);
    });

    it('stream / events / verifyIntegrity / integrityCheckpoints: auditors and admins only (canReadEventLog)', async () => {
      const ops = [
        [`query($s: String!) { stream(streamId: $s) { type } }`, { s: `case-${c.c1}` }],
        [`{ events(limit: 5) { events { type } hasMore } }`, {}],
        [`query($s: String) { verifyIntegrity(streamId: $s) { ok streamsChecked } }`, { s: `case-${c.c1}` }],
        [`{ integrityCheckpoints { id } }`, {}],
      ] as const;
      const who: [string, string, boolean][] = [
        ['applicant (own case)', q.owner, false], ['clerk (handling dept)', q.clerkA, false], ['reviewer (handling dept)', q.reviewerA, false],
        ['supervisor (covering region)', q.supA, false], ['auditor', q.auditor, true], ['admin', q.admin, true],
      ];
      for (const [name, bearer, may] of who) {
        for (const [doc, vars] of ops) {
          const r = await gql(url, doc, vars, bearer);
          if (may) expect(r.errors, `${name}: ${doc} ${JSON.stringify(r.errors)}`).toBeUndefined();
          else {
            expect(codes(r), `${name}: ${doc}`).toEqual(['FORBIDDEN']);
            expect(r.data, `${name}: ${doc}`).toBeNull();
          }
        }
      }
      const v = await gql(url, `{ verifyIntegrity { ok streamsChecked eventsChecked } }`, {}, q.auditor);
      expect(v.data!.verifyIntegrity).toMatchObject({ ok: true });
      expect(v.data!.verifyIntegrity.streamsChecked).toBeGreaterThan(4);
    });

    it('cases: an applicant sees only their own, a clerk or reviewer only their department, a supervisor their region', async () => {
      expect(await caseIds(q.owner)).toEqual({ total: 3, ids: sorted(c.c1, c.c2, c.c3) });
      expect(await caseIds(q.other)).toEqual({ total: 1, ids: [c.c4] });
      expect(await caseIds(q.clerkA)).toEqual({ total: 3, ids: sorted(c.c1, c.c2, c.c4) });
      expect(await caseIds(q.reviewerA)).toEqual({ total: 3, ids: sorted(c.c1, c.c2, c.c4) });
      expect(await caseIds(q.clerkB)).toEqual({ total: 1, ids: [c.c3] });
      expect(await caseIds(q.reviewerB)).toEqual({ total: 1, ids: [c.c3] });
      expect(await caseIds(q.supA)).toEqual({ total: 3, ids: sorted(c.c1, c.c2, c.c4) });
      expect(await caseIds(q.supB)).toEqual({ total: 1, ids: [c.c3] });
      // the province covers both prefectures and the matrix's 520102: as much as an auditor
      const all = await caseIds(q.auditor, {});
      expect((await caseIds(q.supProvince)).total).toBe(all.total);
      expect((await caseIds(q.admin)).total).toBe(all.total);
      expect(all.total).toBeGreaterThan(4);
      // the matrix's supervisor of 520100 sees none of these
      expect((await caseIds(tokens.supervisor.in, { itemCode: itemA })).total).toBe(0);
      // a clerk with no department sees nothing at all
      expect(await caseIds(q.noScopeClerk)).toEqual({ total: 0, ids: [] });
    });

    it('cases: a filter never widens the scope', async () => {
      expect(await caseIds(q.clerkA, { departmentCode: QB })).toEqual({ total: 0, ids: [] });
      expect(await caseIds(q.supA, { regionCode: '522701' })).toEqual({ total: 0, ids: [] });
      expect(await caseIds(q.supA, { regionCode: '520000' })).toEqual({ total: 3, ids: sorted(c.c1, c.c2, c.c4) });
      expect(await caseIds(q.other, { applicantIdNumber: ID_OWNER })).toEqual({ total: 0, ids: [] });
      expect(await caseIds(q.auditor, { applicantIdNumber: ID_OWNER })).toEqual({ total: 3, ids: sorted(c.c1, c.c2, c.c3) });
      expect(await caseIds(q.clerkA, { itemCode: itemB })).toEqual({ total: 0, ids: [] });
    });

    it('a case outside the caller\'s scope reads as null (case and caseAt), like a case that does not exist', async () => {
      const read = async (bearer: string, id: string) => {
        const r = await gql(url, `query($id: ID!, $at: DateTime!) { case(id: $id) { id } caseAt(id: $id, at: $at) { id } }`, { id, at: '2027-01-01T00:00:00+08:00' }, bearer);
        expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
        return r.data as { case: { id: string } | null; caseAt: { id: string } | null };
      };
      const hidden = { case: null, caseAt: null };
      const shown = (id: string) => ({ case: { id }, caseAt: { id } });
      expect(await read(q.other, c.c1)).toEqual(hidden);
      expect(await read(q.owner, c.c4)).toEqual(hidden);
      expect(await read(q.clerkB, c.c1)).toEqual(hidden);
      expect(await read(q.reviewerA, c.c3)).toEqual(hidden);
      expect(await read(q.supB, c.c1)).toEqual(hidden);
      expect(await read(q.supA, c.c3)).toEqual(hidden);
      expect(await read(q.noScopeClerk, c.c1)).toEqual(hidden);
      expect(await read(q.owner, randomUUID())).toEqual(hidden);
      expect(await read(q.owner, c.c1)).toEqual(shown(c.c1));
      expect(await read(q.clerkA, c.c4)).toEqual(shown(c.c4));
      expect(await read(q.supB, c.c3)).toEqual(shown(c.c3));
      expect(await read(q.auditor, c.c3)).toEqual(shown(c.c3));
      expect(await read(q.admin, c.c1)).toEqual(shown(c.c1));
    });

    it('statistics: supervisors their region, clerks and reviewers their department, auditors and admins all; applicants none', async () => {
      const submittedFor = async (bearer: string, filter: Record<string, unknown> = {}) => {
        const r = await gql(url, `query($f: StatisticsFilter) { statistics(filter: $f) { submitted accepted byDepartment { key submitted } } }`, { f: filter }, bearer);
        return r;
      };
      const n = async (bearer: string, filter: Record<string, unknown> = {}) => {
        const r = await submittedFor(bearer, filter);
        expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
        return (r.data!.statistics as { submitted: number }).submitted;
      };
      await server.runner.waitFor('statistics', async () => (await server.runner.status()).every((s) => s.lag === 0), 20_000);
      expect(await n(q.clerkA)).toBe(3);
      expect(await n(q.reviewerA)).toBe(3);
      expect(await n(q.clerkB)).toBe(1);
      expect(await n(q.supA)).toBe(3);
      expect(await n(q.supB)).toBe(1);
      // a filter outside the scope narrows to nothing, never widens
      expect(await n(q.clerkA, { departmentCode: QB })).toBe(0);
      expect(await n(q.supA, { regionCode: '522701' })).toBe(0);
      const all = await n(q.auditor);
      expect(all).toBeGreaterThan(4);
      expect(await n(q.admin)).toBe(all);
      expect(await n(q.supProvince)).toBe(all);
      const byDept = (await submittedFor(q.clerkA)).data!.statistics.byDepartment as { key: string }[];
      expect(byDept.map((g) => g.key)).toEqual([QA]);
      for (const bearer of [q.owner, q.other]) {
        const r = await submittedFor(bearer);
        expect(codes(r)).toEqual(['FORBIDDEN']);
      }
    });

    it('supervision: the open cases of the caller\'s region or department; applicants none', async () => {
      const open = async (bearer: string, filter: Record<string, unknown> = {}) => {
        const r = await gql(url, `query($f: SupervisionFilter) { supervision(filter: $f, first: 200) { totalCount edges { node { case { id } level } } } }`, { f: filter }, bearer);
        expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
        return (r.data!.supervision.edges as { node: { case: { id: string } } }[]).map((e) => e.node.case.id).sort();
      };
      expect(await open(q.clerkA)).toEqual([c.c2]);
      expect(await open(q.reviewerA)).toEqual([c.c2]);
      expect(await open(q.clerkB)).toEqual([c.c3]);
      expect(await open(q.supA)).toEqual([c.c2]);
      expect(await open(q.supB)).toEqual([c.c3]);
      expect(await open(q.supA, { regionCode: '522701' })).toEqual([]);
      expect(await open(q.clerkA, { departmentCode: QB })).toEqual([]);
      expect(await open(tokens.supervisor.out)).not.toContain(c.c2);
      const all = await open(q.auditor);
      expect(all).toEqual(expect.arrayContaining([c.c2, c.c3]));
      expect(await open(q.admin)).toEqual(all);
      for (const bearer of [q.owner, q.other]) {
        const r = await gql(url, `{ supervision { totalCount } }`, {}, bearer);
        expect(codes(r)).toEqual(['FORBIDDEN']);
      }
    });

    it('masking: the applicant and the handling department see the ID number in the clear; supervisors, auditors, admins see it masked', async () => {
      const CASE = `query($id: ID!) { case(id: $id) { applicant { name idNumber phone } history { type data } } }`;
      const read = async (bearer: string) => {
        const r = await gql(url, CASE, { id: c.c1 }, bearer);
        expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
        const kase = r.data!.case as { applicant: { name: string; idNumber: string; phone: string }; history: { type: string; data: { applicant?: { idNumber: string; name: string } } }[] };
        return { applicant: kase.applicant, submittedData: kase.history.find((e) => e.type === 'CaseSubmitted')!.data.applicant };
      };
      const clear = { name: '李四', idNumber: ID_OWNER, phone: '13800001111' };
      const masked = { name: '李*', idNumber: '522301********1234', phone: '138****1111' };
      for (const [who, bearer] of [['applicant', q.owner], ['clerk of the handling department', q.clerkA], ['reviewer of the handling department', q.reviewerA]] as const) {
        const v = await read(bearer);
        expect(v.applicant, who).toEqual(clear);
        expect(v.submittedData, `${who}: history`).toMatchObject(clear);
      }
      for (const [who, bearer] of [['supervisor', q.supA], ['auditor', q.auditor], ['admin', q.admin]] as const) {
        const v = await read(bearer);
        expect(v.applicant, who).toEqual(masked);
        expect(v.submittedData, `${who}: history`).toMatchObject(masked);
        expect(JSON.stringify(v), who).not.toContain(ID_OWNER);
      }
      // in the list, too
      const list = await gql(url, `query($f: CaseFilter) { cases(filter: $f) { edges { node { id applicant { idNumber } } } } }`, { f: { itemCode: itemA } }, q.supA);
      for (const e of list.data!.cases.edges as { node: { applicant: { idNumber: string } } }[]) expect(e.node.applicant.idNumber).toMatch(/^522301\*{8}\d{4}$/);
      const own = await gql(url, `query($f: CaseFilter) { cases(filter: $f) { edges { node { applicant { idNumber } } } } }`, { f: { itemCode: itemA } }, q.owner);
      expect((own.data!.cases.edges as { node: { applicant: { idNumber: string } } }[]).map((e) => e.node.applicant.idNumber)).toEqual([ID_OWNER, ID_OWNER]);
    });

    it('masking inside the raw log: stream and events show the auditor 520102********1234-style ID numbers', async () => {
      const s = await gql(url, `query($s: String!) { stream(streamId: $s) { type data } }`, { s: `case-${c.c1}` }, q.auditor);
      expect(s.errors).toBeUndefined();
      const submittedEvent = (s.data!.stream as { type: string; data: { applicant: Record<string, string> } }[]).find((e) => e.type === 'CaseSubmitted')!;
      expect(submittedEvent.data.applicant).toMatchObject({ idNumber: '522301********1234', name: '李*', phone: '138****1111' });
      expect(JSON.stringify(s.data)).not.toContain(ID_OWNER);
      const log = await gql(url, `{ events(limit: 1000, types: ["CaseSubmitted"]) { events { streamId data } } }`, {}, q.auditor);
      expect(log.errors).toBeUndefined();
      const mine = (log.data!.events.events as { streamId: string; data: { applicant: { idNumber: string } } }[]).filter((e) => e.streamId === `case-${c.c4}`);
      expect(mine.map((e) => e.data.applicant.idNumber)).toEqual(['522301********5678']);
      expect(JSON.stringify(log.data)).not.toContain(ID_OWNER);
      expect(JSON.stringify(log.data)).not.toContain(ID_OTHER);
      const admin = await gql(url, `query($s: String!) { stream(streamId: $s) { type data } }`, { s: `case-${c.c1}` }, q.admin);
      expect(JSON.stringify(admin.data)).not.toContain(ID_OWNER);
    });

    it('a command\'s result shows the case as the caller may see it', async () => {
      // the supervisor issuing a notice gets the case back masked; the answering clerk in the clear
      const issued = await gql(url, `mutation($input: SupervisionNoticeInput!) { issueSupervisionNotice(input: $input) { events { data } case { applicant { idNumber } } } }`,
        { input: { caseId: c.c2, content: '请加快', replyWithinWorkingDays: 3 } }, q.supA);
      expect(issued.errors, JSON.stringify(issued.errors)).toBeUndefined();
      expect(issued.data!.issueSupervisionNotice.case.applicant.idNumber).toBe('522301********1234');
      const noticeId = issued.data!.issueSupervisionNotice.events[0].data.noticeId as string;
      const answered = await gql(url, `mutation($input: AnswerSupervisionNoticeInput!) { answerSupervisionNotice(input: $input) { case { applicant { idNumber } } } }`,
        { input: { caseId: c.c2, noticeId, answer: '本周办结' } }, q.clerkA);
      expect(answered.errors, JSON.stringify(answered.errors)).toBeUndefined();
      expect(answered.data!.answerSupervisionNotice.case.applicant.idNumber).toBe(ID_OWNER);
    });
  });
});
