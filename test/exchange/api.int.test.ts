import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleCaseCommand, submitCase, type CaseDeps } from '../../application/cases.ts';
import { publishServiceItem } from '../../application/serviceItems.ts';
import { createMetrics } from '../../graphql/metrics.ts';
import { createDispatcher, type Dispatcher } from '../../infrastructure/exchange/dispatcher.ts';
import { createHaochapingAdapter } from '../../infrastructure/exchange/haochaping.ts';
import { openWithVault } from '../../infrastructure/exchange/payloads.ts';
import { createExchangeOutboxProjection } from '../../projections/exchange/outboxProjection.ts';
import { exchangeStatus } from '../../projections/exchange/status.ts';
import { createProjectionRunner, type ProjectionRunner } from '../../projections/runner.ts';
import { itemInput, people, submitInput, testClock, TEST_MASTER_KEY, writeSide } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';
import { codes, gql, startTestServer, token } from '../support/server.ts';
import { hubKeys, startReceiver, waitUntil } from './support.ts';

/** The exchange as supervisors and operators see it: GraphQL status and retry, /metrics, the NDJSON export. */
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: Awaited<ReturnType<typeof startTestServer>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let deps: CaseDeps;
let runner: ProjectionRunner;
let dispatcher: Dispatcher;
const keys = hubKeys();
const clock = testClock('2026-09-29T09:30:00+08:00');
const itemCode = `EXA-${randomUUID().slice(0, 8)}`;
const caseIds: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase('exchange_api');
  receiver = await startReceiver(keys.publicKey);
  deps = writeSide(db, clock);
  server = await startTestServer(db);
  await publishServiceItem(deps, itemInput(itemCode), { principal: people.admin });
  runner = createProjectionRunner({
    pool: db.pool, store: db.newStore(), connectionString: db.connectionString, schema: db.schema,
    projections: [createExchangeOutboxProjection({ targets: ['haochaping'] })],
  });
  runner.start();
  // a hub that is down: every record becomes a dead letter after 2 attempts
  receiver.setFailAll(true);
  dispatcher = createDispatcher({
    connectionString: db.connectionString, schema: db.schema, store: db.newStore(), openApplicant: openWithVault(deps.vault),
    adapters: [createHaochapingAdapter({ url: receiver.url, signingKey: keys.privateKey })],
    retryBaseMs: 20, retryMaxMs: 50, maxAttempts: 2, idleMs: 50,
  });
  dispatcher.start();
  for (let i = 0; i < 3; i++) {
    const s = await submitCase(deps, submitInput(itemCode), { principal: people.applicant, commandId: randomUUID() });
    caseIds.push(s.caseId);
    clock.set('2026-09-30T10:00:00+08:00');
    await handleCaseCommand(deps, s.caseId, { type: 'AcceptCase', data: {} }, { principal: people.clerk, commandId: randomUUID() });
    clock.set('2026-09-29T09:30:00+08:00');
  }
  await waitUntil(async () => (await exchangeStatus(db.pool)).find((s) => s.target === 'haochaping')!.dead === 3, 30_000, 'three dead letters');
});

afterAll(async () => {
  await dispatcher?.stop();
  await runner?.stop();
  await server?.close();
  await receiver?.close();
  await db?.drop();
});

const STATUS = '{ exchangeStatus { target pending retrying delivered dead oldestPendingAgeSeconds lastError } }';

describe('exchange status and dead letters', () => {
  it('supervisors see the outbox per target; clerks may not', async () => {
    const r = await gql(server.url, STATUS, {}, await token({ sub: 'sup-1', roles: ['supervisor'], region: '520100' }));
    expect(r.errors).toBeUndefined();
    const hub = r.data!.exchangeStatus.find((s: { target: string }) => s.target === 'haochaping');
    expect(hub).toMatchObject({ pending: 0, delivered: 0, dead: 3 });
    expect(hub.lastError).toContain('HTTP 503');
    expect(r.data!.exchangeStatus.find((s: { target: string }) => s.target === 'exchange_db')).toMatchObject({ pending: 0, dead: 0 });
    const denied = await gql(server.url, STATUS, {}, await token({ sub: 'clerk-1', roles: ['clerk'], dept: 'GY-MARKET', region: '520102' }));
    expect(codes(denied)).toEqual(['FORBIDDEN']);
  });

  it('the service item shows the exchange codes and personal fields it was published with', async () => {
    const admin = await token({ sub: 'admin-1', roles: ['admin'] });
    const code = `EXQ-${Date.now().toString(36)}`;
    const input = { ...itemInput(code), materials: [{ name: '申请书', provided: true }], basicCode: '000117001000', implementationCode: '11520102MB1234567X400011',
      handlingItemCode: '115201020000000000400011700101', departmentCreditCode: '11520102MB1234567X', personalFields: ['householdIncome'] };
    const sel = 'itemCode basicCode implementationCode handlingItemCode departmentCreditCode personalFields';
    const published = await gql(server.url, `mutation($i: ServiceItemInput!) { publishServiceItem(input: $i) { ${sel} } }`, { i: input }, admin);
    expect(published.errors).toBeUndefined();
    const expected = { itemCode: code, basicCode: '000117001000', implementationCode: '11520102MB1234567X400011',
      handlingItemCode: '115201020000000000400011700101', departmentCreditCode: '11520102MB1234567X', personalFields: ['householdIncome'] };
    expect(published.data!.publishServiceItem).toEqual(expected);
    const read = await gql(server.url, `query($c: String!) { serviceItem(itemCode: $c) { ${sel} } }`, { c: code }, admin);
    // the catalogue is a read model: wait for it
    for (let i = 0; i < 50 && !read.data?.serviceItem; i++) {
      await new Promise((r) => setTimeout(r, 100));
      Object.assign(read, await gql(server.url, `query($c: String!) { serviceItem(itemCode: $c) { ${sel} } }`, { c: code }, admin));
    }
    expect(read.data!.serviceItem).toEqual(expected);
  });

  it('/metrics shows the outbox gauges', async () => {
    const metrics = createMetrics(undefined, () => exchangeStatus(db.pool));
    const text = await metrics.registry.metrics();
    expect(text).toContain('govcase_exchange_records{target="haochaping",status="dead"} 3');
    expect(text).toContain('govcase_exchange_records{target="exchange_db",status="pending"} 0');
    expect(text).toMatch(/govcase_exchange_oldest_pending_seconds\{target="haochaping"\} 0/);
  });

  it('an admin puts the dead letters back; once the hub answers they are delivered', async () => {
    const mutation = 'mutation($t: String) { retryExchangeDeadLetters(target: $t) }';
    const supervisor = await token({ sub: 'sup-1', roles: ['supervisor'], region: '520100' });
    expect(codes(await gql(server.url, mutation, { t: 'haochaping' }, supervisor))).toEqual(['FORBIDDEN']);
    const admin = await token({ sub: 'admin-1', roles: ['admin'] });
    expect(codes(await gql(server.url, mutation, { t: 'nowhere' }, admin))).toEqual(['VALIDATION_FAILED']);
    receiver.setFailAll(false);
    const r = await gql(server.url, mutation, { t: 'haochaping' }, admin);
    expect(r.data).toEqual({ retryExchangeDeadLetters: 3 });
    await waitUntil(async () => (await exchangeStatus(db.pool)).find((s) => s.target === 'haochaping')!.delivered >= 3, 30_000, 'redelivery');
    const after = await gql(server.url, STATUS, {}, supervisor);
    expect(after.data!.exchangeStatus.find((s: { target: string }) => s.target === 'haochaping')).toMatchObject({ dead: 0 });
  });
});

describe('govcase export --format gbt39046', () => {
  const cli = (args: string[]) =>
    promisify(execFile)('node', ['bin/govcase.js', ...args], {
      env: { ...process.env, DATABASE_URL: db.connectionString, DATABASE_SCHEMA: db.schema, GOVCASE_MASTER_KEY: TEST_MASTER_KEY, LOG_LEVEL: 'silent' },
      maxBuffer: 64 * 1024 * 1024,
    });

  it('writes the period\'s data sets as NDJSON with a progress line', async () => {
    const { stdout, stderr } = await cli(['export', '--format', 'gbt39046', '--from', '2026-09-29', '--to', '2026-09-29']);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { dataSet: string; dataSetName: string; caseId: string; applicantName: string; appliedAt: string });
    // only the applications were filed on the 29th (the acceptances are dated the 30th)
    const ours = lines.filter((l) => caseIds.includes(l.caseId));
    expect(ours.map((l) => l.dataSet)).toEqual(['APPLICATION', 'APPLICATION', 'APPLICATION']);
    expect(ours[0]).toMatchObject({ dataSetName: '办事申请', applicantName: '张三', appliedAt: '20260929T093000' });
    expect(stderr).toMatch(/gbt39046: [\d,]+ events read, [\d,]+ in the period, [\d,]+ records written/);

    const all = await cli(['export', '--format', 'gbt39046']);
    const sets = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as { dataSet: string; caseId: string })
      .filter((l) => l.caseId === caseIds[0]).map((l) => l.dataSet);
    expect(sets).toEqual(['APPLICATION', 'ACCEPTANCE']);
  });

  it('refuses a bad date with exit code 2', async () => {
    await expect(cli(['export', '--format', 'gbt39046', '--from', '2026-13-01'])).rejects.toMatchObject({ code: 2 });
  });
});
