import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../application/ports.ts';
import { createPostgresAuditTrail, type PostgresAuditTrail } from '../../infrastructure/integrity/auditLog.ts';
import { createIntegrity } from '../../infrastructure/integrity/index.ts';
import { generateSigningKey } from '../../infrastructure/integrity/sm2.ts';
import { createTestDatabase } from '../support/db.ts';
import { itemInput, submitInput } from '../support/app.ts';
import { codes, gql, startTestServer, subscribe, token } from '../support/server.ts';
import { untilVisible } from './visible.ts';

/** Over HTTP: who may create and list checkpoints, verification, and the access and refusal audit. */
describe('integrity checkpoints and the audit trail over the API', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let audit: PostgresAuditTrail;
  const t: Record<string, string> = {};

  beforeAll(async () => {
    db = await createTestDatabase('audit_e2e');
    const integrity = createIntegrity({ pool: db.pool, store: db.newStore(), signingKey: generateSigningKey(), clock: systemClock });
    audit = createPostgresAuditTrail({ pool: db.pool, flushMs: 60_000 });
    server = await startTestServer(db, { integrity, audit, rateLimit: { max: 30, windowMs: 60_000 } });
    t.auditor = await token({ sub: 'auditor-1', roles: ['auditor'] });
    t.admin = await token({ sub: 'admin-1', roles: ['admin'] });
    t.clerk = await token({ sub: 'clerk-1', roles: ['clerk'], dept: 'GY-MARKET', region: '520102' });
    t.supervisor = await token({ sub: 'supervisor-1', roles: ['supervisor'], region: '520100' });
  });
  afterAll(async () => {
    await server?.close();
    await audit?.close();
    await db?.drop();
  });

  const CREATE = 'mutation { createIntegrityCheckpoint { id sequence position streams merkleRoot signature publicKey createdAt previous changedStreams full } }';

  it('auditors and admins create checkpoints; others are refused', async () => {
    expect(codes(await gql(server.url, CREATE))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await gql(server.url, CREATE, {}, t.clerk))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(server.url, CREATE, {}, t.supervisor))).toEqual(['FORBIDDEN']);
    await gql(server.url, 'mutation($i: ServiceItemInput!) { publishServiceItem(input: $i) { itemCode } }', {
      i: { itemCode: `ITEM-${randomUUID().slice(0, 8)}`, name: '食品经营许可', itemType: '01', departmentCode: 'GY-MARKET', departmentName: '市场监管局',
        regionCode: '520102', caseType: 'PROMISED', legalLimitDays: 20, promisedLimitDays: 10 },
    }, t.admin);
    await untilVisible(db.newStore(), db.pool);
    const first = await gql(server.url, CREATE, {}, t.auditor);
    expect(first.errors).toBeUndefined();
    expect(first.data!.createIntegrityCheckpoint).toMatchObject({ id: '1', sequence: 1, streams: 1, previous: null, changedStreams: 1, full: true });
    expect(first.data!.createIntegrityCheckpoint.publicKey).toMatch(/^04[0-9a-f]{128}$/);
    const second = await gql(server.url, CREATE, {}, t.admin);
    expect(second.data!.createIntegrityCheckpoint).toMatchObject({ sequence: 2, streams: 1, changedStreams: 0, full: false });

    const list = await gql(server.url, '{ integrityCheckpoints(last: 5) { sequence merkleRoot signature } }', {}, t.auditor);
    expect(list.data!.integrityCheckpoints.map((c: { sequence: number }) => c.sequence)).toEqual([2, 1]);
    expect(codes(await gql(server.url, '{ integrityCheckpoints { sequence } }', {}, t.clerk))).toEqual(['FORBIDDEN']);

    const report = await gql(server.url, '{ verifyIntegrity { ok streamsChecked eventsChecked brokenStreamId brokenRevision checkpointSequence eventsPerSecond problems { kind } } }', {}, t.auditor);
    expect(report.errors).toBeUndefined();
    expect(report.data!.verifyIntegrity).toMatchObject({ ok: true, streamsChecked: 2, eventsChecked: 3, brokenStreamId: null, checkpointSequence: 2, problems: [] });
  });

  it("records an auditor's and a supervisor's reads; only auditors and admins read the audit", async () => {
    const caseId = randomUUID();
    expect((await gql(server.url, 'query($s: String!) { stream(streamId: $s) { revision } }', { s: `case-${caseId}` }, t.auditor)).errors).toBeUndefined();
    expect((await gql(server.url, 'query($id: ID!) { case(id: $id) { id } }', { id: caseId }, t.supervisor)).errors).toBeUndefined();
    expect((await gql(server.url, 'query($id: ID!) { case(id: $id) { id } }', { id: caseId }, t.clerk)).errors).toBeUndefined();
    await audit.flush();
    const r = await gql(server.url, 'query($t: String) { accessAudit(target: $t) { actorId actorRole operation target sourceAddress requestId at } }', { t: `case-${caseId}` }, t.auditor);
    expect(r.errors).toBeUndefined();
    expect(r.data!.accessAudit).toMatchObject([{ actorId: 'auditor-1', actorRole: 'auditor', operation: 'stream', target: `case-${caseId}`, sourceAddress: '127.0.0.1' }]);
    expect(r.data!.accessAudit[0].requestId).toBeTruthy();
    const byCase = await gql(server.url, 'query($t: String) { accessAudit(target: $t) { actorId actorRole operation } }', { t: caseId }, t.admin);
    // the clerk's read is not an audited read; the supervisor's is
    expect(byCase.data!.accessAudit).toEqual([{ actorId: 'supervisor-1', actorRole: 'supervisor', operation: 'case' }]);
    expect(codes(await gql(server.url, '{ accessAudit { actorId } }', {}, t.supervisor))).toEqual(['FORBIDDEN']);
  });

  it('records refusals aggregated per window: who, what, why, from where, how many', async () => {
    const clerk2 = await token({ sub: `clerk-${randomUUID().slice(0, 6)}`, roles: ['clerk'], dept: 'GY-MARKET', region: '520102' });
    for (let i = 0; i < 3; i++) expect(codes(await gql(server.url, '{ events { hasMore } }', {}, clerk2))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(server.url, '{ me { id } }', {}, 'not-a-jwt'))).toEqual(['UNAUTHENTICATED']);
    // a WebSocket whose connection_init carries a forged token is refused, and recorded
    await expect(subscribe(server.url, 'subscription { caseEvents { id } }', {}, 'forged.token.here')).rejects.toThrow(/closed/);
    // a flood from one token: refused by the rate limit before GraphQL
    const flooder = await token({ sub: 'flooder', roles: ['clerk'] });
    const statuses: number[] = [];
    for (let i = 0; i < 33; i++) statuses.push((await gql(server.url, '{ me { id } }', {}, flooder)).status);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
    await audit.flush();
    const q = 'query($c: String) { securityEvents(code: $c, first: 100) { code actor actorRole operation reason sourceAddress count windowStart firstAt lastAt } }';
    const forbidden = (await gql(server.url, q, { c: 'FORBIDDEN' }, t.auditor)).data!.securityEvents as { actor: string; count: number; operation: string; reason: string; sourceAddress: string }[];
    const mine = forbidden.filter((e) => e.operation === 'events' && e.actor !== 'clerk-1');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ count: 3, sourceAddress: '127.0.0.1' });
    expect(mine[0]!.reason).toMatch(/auditor/);
    const unauth = (await gql(server.url, q, { c: 'UNAUTHENTICATED' }, t.auditor)).data!.securityEvents as { actor: string; operation: string }[];
    expect(unauth.some((e) => e.actor.startsWith('token:') && e.operation === 'me')).toBe(true);
    expect(unauth.some((e) => e.actor === 'anonymous' && e.operation === 'createIntegrityCheckpoint')).toBe(true);
    expect(unauth.some((e) => e.actor.startsWith('token:') && e.operation === 'subscription connection_init')).toBe(true);
    const limited = (await gql(server.url, q, { c: 'RATE_LIMITED' }, t.auditor)).data!.securityEvents as { count: number; operation: string }[];
    expect(limited).toMatchObject([{ count: 3, operation: 'POST /graphql' }]);
  });

  it('every event of a case carries who, role, department, client app, source address, request, cause and reason', async () => {
    const raw = itemInput();
    const item = { ...raw, materials: raw.materials.map((m) => ({ name: m.name, provided: m.required })) };
    expect((await gql(server.url, 'mutation($i: ServiceItemInput!) { publishServiceItem(input: $i) { itemCode } }', { i: item }, t.admin)).errors).toBeUndefined();
    const applicant = await token({ sub: 'applicant-7', roles: ['applicant'] });
    const call = async (query: string, variables: Record<string, unknown>, bearer: string, headers: Record<string, string>) => {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST', body: JSON.stringify({ query, variables }),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}`, ...headers },
      });
      return (await res.json()) as { data: any; errors?: unknown };
    };
    const submitted = await call('mutation($i: SubmitCaseInput!) { submitCase(input: $i) { caseId } }', { i: { ...submitInput(item.itemCode), commandId: 'cmd-submit-7' } }, applicant,
      { 'x-client-app': 'gzzwfw-mobile', 'x-correlation-id': 'corr-7', 'x-request-id': 'req-submit-7' });
    expect(submitted.errors).toBeUndefined();
    const caseId = submitted.data.submitCase.caseId as string;
    const withdrawn = await call('mutation($i: ReasonedCommandInput!) { withdrawCase(input: $i) { version } }', { i: { caseId, reason: '申请人主动撤回' } }, applicant,
      { 'x-client-app': 'gzzwfw-mobile', 'x-request-id': 'req-withdraw-7' });
    expect(withdrawn.errors).toBeUndefined();
    const events = (await gql(server.url, 'query($s: String!) { stream(streamId: $s) { type metadata } }', { s: `case-${caseId}` }, t.auditor)).data!.stream as { type: string; metadata: Record<string, unknown> }[];
    expect(events.length).toBeGreaterThanOrEqual(2);
    for (const e of events)
      expect(Object.keys(e.metadata)).toEqual(expect.arrayContaining(['actorId', 'actorRole', 'clientApp', 'sourceAddress', 'correlationId', 'causationId', 'occurredAt']));
    expect(events[0]!.metadata).toMatchObject({ actorId: 'applicant-7', actorRole: 'applicant', clientApp: 'gzzwfw-mobile', sourceAddress: '127.0.0.1', correlationId: 'corr-7', causationId: 'cmd-submit-7', commandId: 'cmd-submit-7' });
    expect(events.at(-1)!.metadata).toMatchObject({ actorId: 'applicant-7', reason: '申请人主动撤回', correlationId: 'req-withdraw-7', causationId: 'req-withdraw-7' });
  });
});
