import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleCaseCommand, submitCase, type CaseCommandInput, type CaseDeps } from '../../application/cases.ts';
import { publishServiceItem } from '../../application/serviceItems.ts';
import type { Principal } from '../../domain/permissions.ts';
import { createDispatcher, type Dispatcher } from '../../infrastructure/exchange/dispatcher.ts';
import { createExchangeDbAdapter } from '../../infrastructure/exchange/exchangeDb.ts';
import { createHaochapingAdapter } from '../../infrastructure/exchange/haochaping.ts';
import { openWithVault } from '../../infrastructure/exchange/payloads.ts';
import { exchangeStatus } from '../../projections/exchange/status.ts';
import { createExchangeOutboxProjection } from '../../projections/exchange/outboxProjection.ts';
import { createProjectionRunner, type ProjectionRunner } from '../../projections/runner.ts';
import { itemInput, people, submitInput, testClock, writeSide } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';
import { createMariaDatabase, hubKeys, startProxy, startReceiver, waitUntil } from './support.ts';

/** Crashes and outages: nothing lost, nothing delivered twice, commands never held up. */
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let maria: Awaited<ReturnType<typeof createMariaDatabase>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let proxy: Awaited<ReturnType<typeof startProxy>>;
let deps: CaseDeps;
let runner: ProjectionRunner;
const dispatchers: Dispatcher[] = [];
const keys = hubKeys();
const clock = testClock('2026-09-29T09:30:00+08:00');
const itemCode = `EXR-${randomUUID().slice(0, 8)}`;

const run = (caseId: string, input: CaseCommandInput, principal: Principal = people.clerk) =>
  handleCaseCommand(deps, caseId, input, { principal, commandId: randomUUID() });

const fullCase = async () => {
  const s = await submitCase(deps, submitInput(itemCode), { principal: people.applicant, commandId: randomUUID() });
  const id = s.caseId;
  await run(id, { type: 'AcceptCase', data: {} });
  for (const step of ['承办', '审核', '批准']) await run(id, { type: 'CompleteReviewStep', data: { step, action: 'PASS', opinion: '同意' } }, people.reviewer);
  await run(id, { type: 'DecideCase', data: { outcome: 'APPROVED', licenceNumber: `L-${id.slice(0, 8)}` } }, people.reviewer);
  await run(id, { type: 'DeliverResult', data: { method: 'WINDOW' } });
  await run(id, { type: 'EvaluateCase', data: { score: 5 } }, people.applicant);
  return id;
};

const newDispatcher = (exchangeUrl: string, overrides: Partial<Parameters<typeof createDispatcher>[0]> = {}) => {
  const d = createDispatcher({
    connectionString: db.connectionString, schema: db.schema, store: db.newStore(), openApplicant: openWithVault(deps.vault),
    adapters: [
      createExchangeDbAdapter({ url: exchangeUrl, connectTimeoutMs: 1_000 }),
      createHaochapingAdapter({ url: receiver.url, signingKey: keys.privateKey, timeoutMs: 5_000 }),
    ],
    retryBaseMs: 50, retryMaxMs: 300, maxAttempts: 1_000, idleMs: 50, leaderRetryMs: 100, ...overrides,
  });
  dispatchers.push(d);
  return d;
};

const counts = async (caseIds: readonly string[]) =>
  (await db.pool.query<{ target: string; status: string; n: string }>(
    'select target, status, count(*) as n from exchange_outbox where case_id = any($1::uuid[]) group by 1, 2 order by 1, 2', [caseIds],
  )).rows.map((r) => `${r.target} ${r.status} ${r.n}`);

const keysOf = async (caseIds: readonly string[], target: string) =>
  (await db.pool.query<{ idempotency_key: string }>(
    'select idempotency_key from exchange_outbox where case_id = any($1::uuid[]) and target = $2 order by 1', [caseIds, target],
  )).rows.map((r) => r.idempotency_key);

beforeAll(async () => {
  db = await createTestDatabase('exchange_reliability');
  maria = await createMariaDatabase('reliability');
  receiver = await startReceiver(keys.publicKey);
  proxy = await startProxy(3306);
  deps = writeSide(db, clock);
  await publishServiceItem(deps, { ...itemInput(itemCode), implementationCode: '11520102MB1234567X400011' }, { principal: people.admin });
  runner = createProjectionRunner({
    pool: db.pool, store: db.newStore(), connectionString: db.connectionString, schema: db.schema,
    projections: [createExchangeOutboxProjection({ targets: ['exchange_db', 'haochaping'] })],
  });
  runner.start();
});

afterAll(async () => {
  for (const d of dispatchers) await d.stop().catch(() => {});
  await runner?.stop();
  await proxy?.close();
  await receiver?.close();
  await maria?.drop();
  await db?.drop();
});

describe('exchange delivery under failure', () => {
  it('a dispatcher killed mid-batch and restarted: no record lost, none delivered twice', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push(await fullCase());
    // 11 rows per case: 8 for the exchange tables, 3 for the hub; wait for the outbox to hold them all
    await waitUntil(async () => (await keysOf(ids, 'exchange_db')).length === 30 * 8 && (await keysOf(ids, 'haochaping')).length === 30 * 3, 30_000, 'the outbox');

    receiver.setDelay(15);
    const first = newDispatcher(maria.url, { batchSize: 60 });
    first.start();
    // the crash, from inside the receiver: while a batch is in flight its database connections go, then it stops
    const before = receiver.accepted.size;
    let killed: Promise<void> | undefined;
    receiver.onAccept((n) => {
      if (n >= before + 30 && !killed) killed = first.pool.end().catch(() => {}).then(() => first.stop());
    });
    await waitUntil(async () => killed !== undefined, 30_000, 'some deliveries');
    await killed;
    receiver.onAccept(undefined);
    const requestsAtCrash = receiver.requests.length;
    const midway = await counts(ids);
    expect(midway.some((c) => c.includes('pending'))).toBe(true);

    receiver.setDelay(0);
    const second = newDispatcher(maria.url);
    second.start();
    await waitUntil(async () => (await counts(ids)).every((c) => c.includes('delivered')), 60_000, 'everything delivered');
    expect(await counts(ids)).toEqual(['exchange_db delivered 240', 'haochaping delivered 90']);

    // the hub: every key accepted exactly once (repeats after the crash were answered "duplicate")
    const hubKeysExpected = await keysOf(ids, 'haochaping');
    const acceptedForThese = [...receiver.accepted.keys()].filter((k) => ids.some((id) => k.includes(id))).sort();
    expect(acceptedForThese).toEqual(hubKeysExpected);
    for (const k of hubKeysExpected) expect(receiver.order.filter((e) => e.nonce === k)).toHaveLength(1);
    // and the crash did leave deliveries made but not marked: the restarted dispatcher sent them again
    expect(receiver.requests.length).toBeGreaterThan(hubKeysExpected.length);
    expect(requestsAtCrash).toBeGreaterThan(0);

    // the exchange database: each key applied once; steps never rewritten (a second write would make them 'U')
    const applied = await maria.rows<{ idempotency_key: string }>('select idempotency_key from govcase_exchange_applied order by 1');
    expect(applied.map((r) => r.idempotency_key).filter((k) => ids.some((id) => k.includes(id)))).toEqual(await keysOf(ids, 'exchange_db'));
    const steps = await maria.rows<{ cd_operation: string; n: number }>('select cd_operation, count(*) as n from up_pro_process group by cd_operation');
    expect(steps).toEqual([{ cd_operation: 'I', n: 90 }]);
    const accepts = await maria.rows<{ cd_operation: string; n: number }>('select cd_operation, count(*) as n from up_pro_accept group by cd_operation');
    expect(accepts).toEqual([{ cd_operation: 'U', n: 30 }]);
    await second.stop();
  });

  it('exchange database down for a while: commands go on, deliveries wait, then catch up', async () => {
    const d = newDispatcher(maria.urlVia(proxy.port));
    d.start();
    await proxy.cut();
    // commands while the exchange database is unreachable: every one succeeds
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await fullCase());
    expect(ids).toHaveLength(10);
    await waitUntil(async () => {
      const r = await db.pool.query<{ n: string }>(
        `select count(*) as n from exchange_outbox where case_id = any($1::uuid[]) and target = 'exchange_db' and status = 'pending' and attempts >= 2`, [ids]);
      return Number(r.rows[0]!.n) > 0;
    }, 30_000, 'failed attempts against the unreachable database');
    // the hub is not held up by the other target
    await waitUntil(async () => (await counts(ids)).includes('haochaping delivered 30'), 30_000, 'hub deliveries meanwhile');
    const status = (await exchangeStatus(db.pool)).find((s) => s.target === 'exchange_db')!;
    expect(status.pending).toBeGreaterThan(0);
    expect(status.lastError).toBeTruthy();

    await proxy.restore();
    await waitUntil(async () => (await counts(ids)).every((c) => c.includes('delivered')), 60_000, 'catch-up');
    expect(await counts(ids)).toEqual(['exchange_db delivered 80', 'haochaping delivered 30']);
    const n = await maria.rows<{ n: number }>('select count(*) as n from up_pro_result where result_cetr_no in (?)', [ids.map((id) => `L-${id.slice(0, 8)}`)]);
    expect(n).toEqual([{ n: 10 }]);
  });
});
