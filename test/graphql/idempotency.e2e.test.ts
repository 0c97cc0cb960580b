import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClock } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';
import { codes, gql, startTestServer, token, type GqlResponse } from '../support/server.ts';

/**
 * Idempotency (commandId) and optimistic concurrency (expectedVersion), over HTTP, with real
 * concurrent requests against one server and one PostgreSQL.
 */
const DEPT = 'ID-DEPT';
const REGION = '520102';
const RESULT = 'caseId version position events { type revision } case { id status version }';

type Result = { caseId: string; version: number; position: string; events: { type: string; revision: number }[]; case: { id: string; status: string; version: number } };

describe('idempotency and concurrency over HTTP', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  const clock = testClock('2026-04-07T10:00:00+08:00');
  const itemCode = `IDEM-${randomUUID().slice(0, 8)}`;
  const t = {} as Record<'admin' | 'applicant' | 'otherApplicant' | 'clerk' | 'otherClerk' | 'auditor', string>;

  const mutate = (mutation: string, inputType: string, input: Record<string, unknown>, bearer: string) =>
    gql<Record<string, Result>>(server.url, `mutation($input: ${inputType}!) { ${mutation}(input: $input) { ${RESULT} } }`, { input }, bearer);
  const ok = async (mutation: string, inputType: string, input: Record<string, unknown>, bearer: string) => {
    const r = await mutate(mutation, inputType, input, bearer);
    if (r.errors) throw new Error(`${mutation}: ${JSON.stringify(r.errors)}`);
    return r.data![mutation]!;
  };
  const submitInput = (extra: Record<string, unknown> = {}) => ({
    itemCode, channel: 'PC',
    applicant: { name: '赵六', idType: '111', idNumber: '520102199507071234', phone: '13700001234' },
    materials: [{ name: '申请书', provided: true }],
    ...extra,
  });
  const submit = async () => (await ok('submitCase', 'SubmitCaseInput', submitInput({ commandId: randomUUID() }), t.applicant)).caseId;
  /** The stream as the event store has it (read by an auditor). */
  const stream = async (caseId: string) => {
    const r = await gql(server.url, `query($s: String!) { stream(streamId: $s, limit: 1000) { type revision metadata } }`, { s: `case-${caseId}` }, t.auditor);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    return r.data!.stream as { type: string; revision: number; metadata: { actorId: string; commandId?: string } }[];
  };
  const all = <T>(n: number, f: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => f(i)));

  beforeAll(async () => {
    db = await createTestDatabase('e2e_idem');
    server = await startTestServer(db, { clock });
    t.admin = await token({ sub: 'id-admin', roles: ['admin'] });
    t.applicant = await token({ sub: 'id-citizen-1', roles: ['applicant'] });
    t.otherApplicant = await token({ sub: 'id-citizen-2', roles: ['applicant'] });
    t.clerk = await token({ sub: 'id-clerk-1', roles: ['clerk'], dept: DEPT, region: REGION });
    t.otherClerk = await token({ sub: 'id-clerk-2', roles: ['clerk'], dept: DEPT, region: REGION });
    t.auditor = await token({ sub: 'id-auditor', roles: ['auditor'] });
    const r = await gql(server.url, `mutation($input: ServiceItemInput!) { publishServiceItem(input: $input) { itemCode } }`, {
      input: {
        itemCode, name: '个体工商户登记', itemType: '01', departmentCode: DEPT, departmentName: '南明区市场监管局', regionCode: REGION,
        caseType: 'PROMISED', legalLimitDays: 15, promisedLimitDays: 5, materials: [{ name: '申请书', provided: true }],
      },
    }, t.admin);
    expect(r.errors).toBeUndefined();
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  it('20 concurrent identical acceptCase with one commandId append once, and all 20 answers agree', async () => {
    const caseId = await submit();
    const commandId = randomUUID();
    const answers = await all(20, () => mutate('acceptCase', 'CaseCommandInput', { caseId, commandId }, t.clerk));
    for (const a of answers) expect(a.errors, JSON.stringify(a.errors)).toBeUndefined();
    const results = answers.map((a) => a.data!.acceptCase!);
    expect(new Set(results.map((r) => `${r.caseId}|${r.version}|${r.position}`)).size).toBe(1);
    expect(results[0]).toMatchObject({ caseId, version: 1 });
    expect(results.every((r) => r.case.status === 'ACCEPTED' && r.case.version === 1)).toBe(true);
    // the one that appended carries its event; every repeat carries none
    const carrying = results.filter((r) => r.events.length > 0);
    expect(carrying).toHaveLength(1);
    expect(carrying[0]!.events).toEqual([{ type: 'CaseAccepted', revision: 1 }]);
    const history = await stream(caseId);
    expect(history.map((e) => e.type)).toEqual(['CaseSubmitted', 'CaseAccepted']);
    expect(history[1]!.metadata.commandId).toBe(commandId);
    // and a late retry, after the fact, is still the same answer
    const late = await ok('acceptCase', 'CaseCommandInput', { caseId, commandId }, t.clerk);
    expect({ version: late.version, position: late.position, events: late.events }).toEqual({ version: 1, position: results[0]!.position, events: [] });
    expect(await stream(caseId)).toHaveLength(2);
  });

  it('20 concurrent commands with the same expectedVersion: exactly 1 succeeds, 19 get CONCURRENCY_CONFLICT', async () => {
    const caseId = await submit();
    const answers = await all(20, () => mutate('acceptCase', 'CaseCommandInput', { caseId, expectedVersion: 0, commandId: randomUUID() }, t.clerk));
    const won = answers.filter((a) => !a.errors);
    const lost = answers.filter((a) => a.errors);
    expect(won).toHaveLength(1);
    expect(won[0]!.data!.acceptCase).toMatchObject({ version: 1, events: [{ type: 'CaseAccepted', revision: 1 }] });
    expect(lost).toHaveLength(19);
    for (const a of lost) {
      expect(codes(a as GqlResponse), JSON.stringify(a.errors)).toEqual(['CONCURRENCY_CONFLICT']);
      expect(a.status).toBeLessThan(500);
      expect(a.errors![0]!.extensions).toMatchObject({ expectedVersion: 0 });
    }
    expect((await stream(caseId)).map((e) => e.type)).toEqual(['CaseSubmitted', 'CaseAccepted']);
  });

  it('a stale expectedVersion is a CONCURRENCY_CONFLICT and appends nothing (even with a valid command)', async () => {
    const caseId = await submit();
    await ok('acceptCase', 'CaseCommandInput', { caseId }, t.clerk);
    const r = await mutate('withdrawCase', 'ReasonedCommandInput', { caseId, reason: '不办了', expectedVersion: 0 }, t.applicant);
    expect(codes(r as GqlResponse)).toEqual(['CONCURRENCY_CONFLICT']);
    expect(r.errors![0]!.extensions).toMatchObject({ expectedVersion: 0, actualVersion: 1 });
    expect(await stream(caseId)).toHaveLength(2);
    const right = await ok('withdrawCase', 'ReasonedCommandInput', { caseId, reason: '不办了', expectedVersion: 1 }, t.applicant);
    expect(right).toMatchObject({ version: 2, case: { status: 'WITHDRAWN' } });
  });

  it('a retried submitCase with the same commandId files one case (sequential and concurrent retries)', async () => {
    const applicant = await token({ sub: `id-citizen-${randomUUID().slice(0, 8)}`, roles: ['applicant'] });
    const commandId = randomUUID();
    const first = await ok('submitCase', 'SubmitCaseInput', submitInput({ commandId }), applicant);
    expect(first.events.map((e) => e.type)).toEqual(['CaseSubmitted']);
    const retry = await ok('submitCase', 'SubmitCaseInput', submitInput({ commandId }), applicant);
    expect(retry).toMatchObject({ caseId: first.caseId, version: 0, position: first.position, events: [] });
    const storm = await all(10, () => mutate('submitCase', 'SubmitCaseInput', submitInput({ commandId }), applicant));
    for (const a of storm) {
      expect(a.errors, JSON.stringify(a.errors)).toBeUndefined();
      expect(a.data!.submitCase).toMatchObject({ caseId: first.caseId, version: 0, position: first.position });
    }
    expect(await stream(first.caseId)).toHaveLength(1);
    // the applicant's list has exactly one case
    await server.runner.waitFor('cases', async () => (await server.runner.status()).every((s) => s.lag === 0), 10_000);
    const list = await gql(server.url, `{ cases { totalCount edges { node { id caseNumber } } } }`, {}, applicant);
    expect(list.data!.cases.totalCount).toBe(1);
    expect(list.data!.cases.edges[0].node.id).toBe(first.caseId);
  });

  it('20 concurrent first submissions with one commandId file one case', async () => {
    const applicant = await token({ sub: `id-citizen-${randomUUID().slice(0, 8)}`, roles: ['applicant'] });
    const commandId = randomUUID();
    const answers = await all(20, () => mutate('submitCase', 'SubmitCaseInput', submitInput({ commandId }), applicant));
    for (const a of answers) expect(a.errors, JSON.stringify(a.errors)).toBeUndefined();
    const ids = new Set(answers.map((a) => a.data!.submitCase!.caseId));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => a.data!.submitCase!.events.length > 0)).toHaveLength(1);
    expect(await stream([...ids][0]!)).toHaveLength(1);
  });

  it('a commandId replayed by another user is FORBIDDEN (same case) and appends nothing', async () => {
    const caseId = await submit();
    const commandId = randomUUID();
    const first = await ok('acceptCase', 'CaseCommandInput', { caseId, commandId }, t.clerk);
    const replay = await mutate('acceptCase', 'CaseCommandInput', { caseId, commandId }, t.otherClerk);
    expect(codes(replay as GqlResponse), JSON.stringify(replay.errors)).toEqual(['FORBIDDEN']);
    expect(replay.data?.acceptCase ?? null).toBeNull();
    // the original issuer still gets the first result
    expect(await ok('acceptCase', 'CaseCommandInput', { caseId, commandId }, t.clerk)).toMatchObject({ version: first.version, position: first.position, events: [] });
    expect(await stream(caseId)).toHaveLength(2);
  });

  it('a submitCase replayed by another user with the same commandId and caseId is FORBIDDEN', async () => {
    const caseId = randomUUID();
    const commandId = randomUUID();
    await ok('submitCase', 'SubmitCaseInput', submitInput({ commandId, caseId }), t.applicant);
    const replay = await mutate('submitCase', 'SubmitCaseInput', submitInput({ commandId, caseId }), t.otherApplicant);
    expect(codes(replay as GqlResponse), JSON.stringify(replay.errors)).toEqual(['FORBIDDEN']);
    const history = await stream(caseId);
    expect(history).toHaveLength(1);
    expect(history[0]!.metadata.actorId).toBe('id-citizen-1');
  });

  it('another user replaying a submitCase request as-is (same commandId, no caseId) is FORBIDDEN, and files nothing', async () => {
    const commandId = randomUUID();
    const first = await ok('submitCase', 'SubmitCaseInput', submitInput({ commandId }), t.applicant);
    const replay = await mutate('submitCase', 'SubmitCaseInput', submitInput({ commandId }), t.otherApplicant);
    expect(codes(replay as GqlResponse), JSON.stringify(replay.errors)).toEqual(['FORBIDDEN']);
    expect(replay.data?.submitCase ?? null).toBeNull();
    expect(await stream(first.caseId)).toHaveLength(1);
  });
});
