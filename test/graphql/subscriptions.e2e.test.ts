import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPostgresCaseNumbers } from '../../infrastructure/postgres/caseNumbers.ts';
import { createDeadlineClock } from '../../projections/deadlineClock.ts';
import { testClock, testVault } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';
import { gql, startTestServer, subscribe, token } from '../support/server.ts';

/**
 * Subscriptions over WebSocket (graphql-transport-ws) with two API servers on one database, as two
 * processes would be: what is committed through one is delivered by the other, to those who may see it.
 */
const DEPT = 'SUB-DEPT-A';
const OTHER_DEPT = 'SUB-DEPT-B';
const REGION = '520102';
const FAR_REGION = '520301';
const ID_NUMBER = '520102199102031234';

const CASE_EVENTS = `subscription($caseId: ID) { caseEvents(caseId: $caseId) { streamId revision type data metadata } }`;
const ALERTS = `subscription($regionCode: String) { supervisionAlerts(regionCode: $regionCode) { level deadline remainingWorkingDays case { id status alertLevel regionCode applicant { idNumber } } } }`;

type Sub = Awaited<ReturnType<typeof subscribe>>;
type CaseEvent = { streamId: string; revision: number; type: string; data: Record<string, any>; metadata: Record<string, unknown> };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The caseEvents a subscriber received, for one stream. */
const eventsOf = (sub: Sub, caseId?: string): CaseEvent[] =>
  sub.received.filter((m) => m.data?.caseEvents).map((m) => m.data.caseEvents as CaseEvent).filter((e) => !caseId || e.streamId === `case-${caseId}`);
const until = async (what: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!what() && Date.now() < deadline) await sleep(50);
  return what();
};

/** A bare graphql-transport-ws client that records everything, for the refusals. */
const rawConnection = (url: string, init: Record<string, unknown> | undefined) =>
  new Promise<{ messages: any[]; closeCode: number | null; ws: WebSocket; sendSubscribe(query: string, variables?: Record<string, unknown>): void }>((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const state = { messages: [] as any[], closeCode: null as number | null, ws, sendSubscribe: (query: string, variables: Record<string, unknown> = {}) => ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } })) };
    ws.once('error', reject);
    ws.on('message', (raw) => state.messages.push(JSON.parse(String(raw))));
    ws.on('close', (code) => (state.closeCode = code));
    ws.once('open', () => {
      ws.send(JSON.stringify(init === undefined ? { type: 'connection_init' } : { type: 'connection_init', payload: init }));
      resolve(state);
    });
  });

describe('subscriptions across two servers', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let a: Awaited<ReturnType<typeof startTestServer>>;
  let b: Awaited<ReturnType<typeof startTestServer>>;
  const clock = testClock('2026-04-13T09:00:00+08:00');
  const itemCode = `SUB-${randomUUID().slice(0, 8)}`;
  const otherItemCode = `SUBO-${randomUUID().slice(0, 8)}`;
  const farItemCode = `SUBF-${randomUUID().slice(0, 8)}`;
  const t = {} as Record<'admin' | 'applicant' | 'otherApplicant' | 'clerk' | 'reviewer' | 'otherClerk' | 'farClerk' | 'supervisor' | 'farSupervisor', string>;
  const subs: Sub[] = [];
  const open = async (server: { url: string }, query: string, variables: Record<string, unknown>, bearer: string) => {
    const s = await subscribe(server.url, query, variables, bearer);
    subs.push(s);
    return s;
  };
  /** subscriptions start listening once the subscribe message is processed: give it a moment */
  const settle = () => sleep(300);

  const run = async (server: { url: string }, mutation: string, inputType: string, input: Record<string, unknown>, bearer: string) => {
    const r = await gql(server.url, `mutation($input: ${inputType}!) { ${mutation}(input: $input) { caseId version } }`, { input }, bearer);
    if (r.errors) throw new Error(`${mutation}: ${JSON.stringify(r.errors)}`);
    return r.data![mutation] as { caseId: string; version: number };
  };
  const submitOn = async (server: { url: string }, code = itemCode, bearer = t.applicant) =>
    (await run(server, 'submitCase', 'SubmitCaseInput', {
      itemCode: code, channel: 'MOBILE', commandId: randomUUID(),
      applicant: { name: '周八', idType: '111', idNumber: ID_NUMBER, phone: '13600001234' },
      materials: [{ name: '申请书', provided: true }],
    }, bearer)).caseId;
  const caughtUp = async () => {
    const ok = await a.runner.waitFor('cases', async () => (await a.runner.status()).every((s) => s.lag === 0), 20_000);
    expect(ok, 'the read models caught up').toBe(true);
  };

  beforeAll(async () => {
    db = await createTestDatabase('e2e_subs');
    a = await startTestServer(db, { clock });
    b = await startTestServer(db, { clock });
    t.admin = await token({ sub: 'sub-admin', roles: ['admin'] });
    t.applicant = await token({ sub: 'sub-citizen-1', roles: ['applicant'] });
    t.otherApplicant = await token({ sub: 'sub-citizen-2', roles: ['applicant'] });
    t.clerk = await token({ sub: 'sub-clerk-a', roles: ['clerk'], dept: DEPT, region: REGION });
    t.reviewer = await token({ sub: 'sub-reviewer-a', roles: ['reviewer'], dept: DEPT, region: REGION });
    t.otherClerk = await token({ sub: 'sub-clerk-b', roles: ['clerk'], dept: OTHER_DEPT, region: REGION });
    t.farClerk = await token({ sub: 'sub-clerk-far', roles: ['clerk'], dept: 'SUB-DEPT-FAR', region: FAR_REGION });
    t.supervisor = await token({ sub: 'sub-sup-gy', roles: ['supervisor'], region: '520100' });
    t.farSupervisor = await token({ sub: 'sub-sup-zy', roles: ['supervisor'], region: '520300' });
    for (const [code, dept, region] of [[itemCode, DEPT, REGION], [otherItemCode, OTHER_DEPT, REGION], [farItemCode, 'SUB-DEPT-FAR', FAR_REGION]] as const) {
      const r = await gql(a.url, `mutation($input: ServiceItemInput!) { publishServiceItem(input: $input) { itemCode } }`, {
        input: {
          itemCode: code, name: '药品经营许可', itemType: '01', departmentCode: dept, departmentName: dept, regionCode: region,
          caseType: 'PROMISED', legalLimitDays: 20, promisedLimitDays: 5, materials: [{ name: '申请书', provided: true }],
        },
      }, t.admin);
      expect(r.errors).toBeUndefined();
    }
  });
  afterAll(async () => {
    for (const s of subs) s.close();
    await b?.close();
    await a?.close();
    await db?.drop();
  });

  it('a subscriber of caseEvents(caseId) on server B sees a mutation done on server A, in order', async () => {
    const caseId = await submitOn(a);
    const clerkSub = await open(b, CASE_EVENTS, { caseId }, t.clerk);
    const ownerSub = await open(b, CASE_EVENTS, { caseId }, t.applicant);
    await settle();
    await run(a, 'acceptCase', 'CaseCommandInput', { caseId }, t.clerk);
    await run(a, 'completeReviewStep', 'CompleteReviewStepInput', { caseId, step: '承办', action: 'PASS', opinion: '同意' }, t.reviewer);
    const later = (sub: Sub) => eventsOf(sub, caseId).filter((e) => e.revision >= 1).length;
    expect(await until(() => later(clerkSub) >= 2 && later(ownerSub) >= 2)).toBe(true);
    for (const sub of [clerkSub, ownerSub]) {
      // B's tail may still deliver the submission (committed just before the subscription, read by B's tail after it)
      expect(eventsOf(sub, caseId).filter((e) => e.revision >= 1).map((e) => [e.type, e.revision])).toEqual([['CaseAccepted', 1], ['ReviewStepCompleted', 2]]);
      expect(sub.received.filter((m) => m.errors)).toEqual([]);
    }
    expect(eventsOf(clerkSub, caseId).find((e) => e.revision === 1)!.metadata).toMatchObject({ actorId: 'sub-clerk-a' });
    // and the other way round: committed through B, seen on A
    const onA = await open(a, CASE_EVENTS, { caseId }, t.clerk);
    await settle();
    await run(b, 'suspendCase', 'SuspendCaseInput', { caseId, procedure: 'INSPECTION', reason: '检验', expectedWorkingDays: 2 }, t.reviewer);
    expect(await until(() => eventsOf(onA, caseId).length >= 1)).toBe(true);
    expect(eventsOf(onA, caseId).map((e) => e.type)).toEqual(['CaseSuspended']);
  });

  it('caseEvents without caseId delivers only the cases the subscriber may see', async () => {
    const clerkAll = await open(b, CASE_EVENTS, {}, t.clerk);
    const otherClerkAll = await open(b, CASE_EVENTS, {}, t.otherClerk);
    const otherClerkThisCase = await open(b, CASE_EVENTS, {}, t.otherClerk);
    const otherApplicantAll = await open(b, CASE_EVENTS, {}, t.otherApplicant);
    const supervisorAll = await open(b, CASE_EVENTS, {}, t.supervisor);
    const farSupervisorAll = await open(b, CASE_EVENTS, {}, t.farSupervisor);
    await settle();
    const caseId = await submitOn(a);
    await run(a, 'acceptCase', 'CaseCommandInput', { caseId }, t.clerk);
    // positive controls: a case of the other department (seen by the other clerk, not by ours)
    const otherCase = await submitOn(a, otherItemCode, t.otherApplicant);
    await run(a, 'rejectCase', 'ReasonedCommandInput', { caseId: otherCase, reason: '不符合条件' }, t.otherClerk);
    expect(await until(() => eventsOf(clerkAll, caseId).length >= 2 && eventsOf(otherClerkAll, otherCase).length >= 2
      && eventsOf(otherApplicantAll, otherCase).length >= 2 && eventsOf(supervisorAll, caseId).length >= 2)).toBe(true);
    await sleep(500); // anything that should not arrive has had its chance
    expect(eventsOf(clerkAll, caseId).map((e) => e.type)).toEqual(['CaseSubmitted', 'CaseAccepted']);
    expect(eventsOf(clerkAll, otherCase)).toEqual([]);
    expect(eventsOf(otherClerkAll, caseId), 'a clerk of another department sees nothing of this case').toEqual([]);
    expect(eventsOf(otherClerkThisCase, caseId)).toEqual([]);
    expect(eventsOf(otherClerkAll, otherCase).map((e) => e.type)).toEqual(['CaseSubmitted', 'CaseRejected']);
    expect(eventsOf(otherApplicantAll, caseId), 'another applicant sees nothing of this case').toEqual([]);
    expect(eventsOf(otherApplicantAll, otherCase).map((e) => e.type)).toEqual(['CaseSubmitted', 'CaseRejected']);
    expect(eventsOf(farSupervisorAll, caseId), 'a supervisor of another region sees nothing').toEqual([]);
    expect(eventsOf(farSupervisorAll, otherCase)).toEqual([]);
    // personal data: in the clear for the handling department, masked for a supervisor
    expect(eventsOf(clerkAll, caseId)[0]!.data.applicant.idNumber).toBe(ID_NUMBER);
    expect(eventsOf(supervisorAll, caseId)[0]!.data.applicant.idNumber).toBe('520102********1234');
    expect(JSON.stringify(supervisorAll.received)).not.toContain(ID_NUMBER);
  });

  it('a subscriber outside the scope of caseEvents(caseId) receives nothing of that case', async () => {
    const caseId = await submitOn(a);
    const otherClerk = await open(b, CASE_EVENTS, { caseId }, t.otherClerk);
    const otherApplicant = await open(b, CASE_EVENTS, { caseId }, t.otherApplicant);
    const clerk = await open(b, CASE_EVENTS, { caseId }, t.clerk);
    await settle();
    await run(a, 'rejectCase', 'ReasonedCommandInput', { caseId, reason: '材料虚假' }, t.clerk);
    expect(await until(() => eventsOf(clerk, caseId).length >= 1)).toBe(true);
    await sleep(300);
    expect(eventsOf(otherClerk, caseId)).toEqual([]);
    expect(eventsOf(otherApplicant, caseId)).toEqual([]);
  });

  it('supervisionAlerts receives the yellow card when the deadline clock raises it, within the region only', async () => {
    clock.set('2026-04-13T09:00:00+08:00'); // Monday; a 5-working-day promise is due Monday 2026-04-20
    const caseId = await submitOn(a);
    await run(a, 'acceptCase', 'CaseCommandInput', { caseId }, t.clerk);
    const farCase = await submitOn(a, farItemCode);
    await run(a, 'acceptCase', 'CaseCommandInput', { caseId: farCase }, t.farClerk);
    const supervisor = await open(b, ALERTS, {}, t.supervisor);
    const supervisorCounty = await open(b, ALERTS, { regionCode: REGION }, t.supervisor);
    const farSupervisor = await open(b, ALERTS, {}, t.farSupervisor);
    await settle();
    await caughtUp();
    // Monday 2026-04-20, the deadline day: 1 working day left (today counts), inside the warning zone (20% of 5, at least 1)
    clock.set('2026-04-20T09:00:00+08:00');
    const deadlineClock = createDeadlineClock({
      pool: db.pool, connectionString: db.connectionString, schema: db.schema,
      deps: { store: db.newStore(), clock, ids: { uuid: randomUUID }, caseNumbers: getPostgresCaseNumbers(db.pool), vault: testVault(db.pool) },
    });
    const report = await deadlineClock.tick();
    expect(report.warnings).toBeGreaterThanOrEqual(2);
    const alertsFor = (sub: Sub, id: string) => sub.received.filter((m) => m.data?.supervisionAlerts?.case?.id === id).map((m) => m.data.supervisionAlerts);
    expect(await until(() => alertsFor(supervisor, caseId).length >= 1 && alertsFor(farSupervisor, farCase).length >= 1
      && alertsFor(supervisorCounty, caseId).length >= 1)).toBe(true);
    await sleep(300);
    const [alert] = alertsFor(supervisor, caseId);
    expect(alert).toMatchObject({ level: 'WARNING', deadline: '2026-04-20', case: { id: caseId, status: 'ACCEPTED', regionCode: REGION } });
    expect(alert.case.applicant.idNumber).toBe('520102********1234');
    expect(alertsFor(supervisor, caseId)).toHaveLength(1);
    // the far supervisor gets their own region's card, never this one; and the reverse
    expect(alertsFor(farSupervisor, caseId)).toEqual([]);
    expect(alertsFor(supervisor, farCase)).toEqual([]);
    expect(alertsFor(supervisorCounty, farCase)).toEqual([]);
    // a second tick raises nothing again
    const again = await deadlineClock.tick();
    expect(again.warnings).toBe(0);
    // the alert describes the case as of the server's clock (2026-04-20): 1 working day left, WARNING
    expect({ remainingWorkingDays: alert.remainingWorkingDays, alertLevel: alert.case.alertLevel }).toEqual({ remainingWorkingDays: 1, alertLevel: 'WARNING' });
  });

  it('supervisionAlerts with an invalid regionCode is refused', async () => {
    const s = await open(b, ALERTS, { regionCode: 'guiyang' }, t.supervisor);
    expect(await until(() => s.received.length > 0, 5_000)).toBe(true);
    const errors = s.received.filter((m) => m.errors).flatMap((m) => m.errors as { extensions?: { code?: string } }[]);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.map((e) => e.extensions?.code), JSON.stringify(s.received)).toEqual(['VALIDATION_FAILED']);
  });

  describe('a subscription without a valid token is refused', () => {
    const refusedOrError = async (init: Record<string, unknown> | undefined) => {
      const c = await rawConnection(b.url, init);
      await until(() => c.closeCode !== null || c.messages.some((m) => m.type === 'connection_ack'), 5_000);
      if (c.closeCode === null && c.messages.some((m) => m.type === 'connection_ack')) {
        // acknowledged without a principal: the subscription itself must be refused as UNAUTHENTICATED
        c.sendSubscribe(CASE_EVENTS, {});
        await until(() => c.closeCode !== null || c.messages.some((m) => m.type === 'error' || m.type === 'next'), 5_000);
      }
      const caseId = await submitOn(a);
      await sleep(500);
      c.ws.close();
      return { ...c, caseId };
    };
    /** Refused: closed before any connection_ack, or the subscription answered with an error; never any data. */
    const expectRefused = (c: Awaited<ReturnType<typeof refusedOrError>>) => {
      const detail = JSON.stringify({ closeCode: c.closeCode, messages: c.messages });
      expect(c.messages.filter((m) => m.type === 'next'), 'no data ever').toEqual([]);
      const acked = c.messages.some((m) => m.type === 'connection_ack');
      const errors = c.messages.filter((m) => m.type === 'error');
      expect((!acked && c.closeCode !== null) || errors.length > 0, detail).toBe(true);
      // an error the client is given names its cause, as every error of the API does
      for (const e of errors) expect((e.payload as { extensions?: { code?: string } }[]).map((p) => p.extensions?.code), detail).toEqual(['UNAUTHENTICATED']);
    };

    it('no token at all', async () => {
      expectRefused(await refusedOrError(undefined));
      expectRefused(await refusedOrError({}));
    });
    it('a garbage token, a token signed with another secret, an expired token', async () => {
      expectRefused(await refusedOrError({ authorization: 'Bearer not-a-jwt' }));
      expectRefused(await refusedOrError({ authorization: 'Basic dXNlcjpwYXNz' }));
      const forged = (await token({ sub: 'x', roles: ['auditor'] })).replace(/\.[^.]+$/, '.c2lnbmF0dXJl');
      expectRefused(await refusedOrError({ authorization: `Bearer ${forged}` }));
      const expired = await token({ sub: 'x', roles: ['auditor'] }, '-2h');
      expectRefused(await refusedOrError({ authorization: `Bearer ${expired}` }));
    });
    it('the harness client is refused with a bad token too', async () => {
      await expect(subscribe(b.url, CASE_EVENTS, {}, 'not-a-jwt')).rejects.toThrow(/closed/);
    });
  });
});
