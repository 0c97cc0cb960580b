import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../application/eventStore.ts';
import { ConfigError, loadEnv } from '../../infrastructure/config.ts';
import { configuredExchangeTargets } from '../../infrastructure/exchange/fromEnv.ts';
import { retryDelayMs } from '../../infrastructure/exchange/dispatcher.ts';
import { classifyAnswer, publicKeyOf, signEnvelope, verifyEnvelope } from '../../infrastructure/exchange/haochaping.ts';
import { outboxRows } from '../../projections/exchange/outboxProjection.ts';
import { hubKeys } from './support.ts';

const ev = (type: string, revision: number, streamId = 'case-0b9a7c1e-5d2f-4a8b-9c3d-1e2f3a4b5c6d'): RecordedEvent => ({
  id: `e${revision}`, streamId, revision, position: `1:${revision}`, type, data: {},
  metadata: { actorId: 'a', actorRole: 'clerk', occurredAt: '2026-09-29T09:00:00+08:00' },
  recordedAt: '2026-09-29T01:00:00.000Z', hash: 'h', previousHash: null,
});

describe('outbox rows (pure)', () => {
  it('one row per target and data set, keyed target:case:revision:dataSet; item streams and erasures queue nothing', () => {
    const rows = outboxRows([
      ev('CaseSubmitted', 0), ev('CaseAccepted', 1), ev('ResultDelivered', 2), ev('DeadlineExceeded', 3), ev('ApplicantDataErased', 4),
      ev('ServiceItemPublished', 0, 'item-X'),
    ], ['exchange_db', 'haochaping']);
    expect(rows.map((r) => r.idempotency_key)).toEqual([
      'exchange_db:0b9a7c1e-5d2f-4a8b-9c3d-1e2f3a4b5c6d:0:APPLICATION',
      'exchange_db:0b9a7c1e-5d2f-4a8b-9c3d-1e2f3a4b5c6d:1:ACCEPTANCE',
      'haochaping:0b9a7c1e-5d2f-4a8b-9c3d-1e2f3a4b5c6d:1:ACCEPTANCE',
      'exchange_db:0b9a7c1e-5d2f-4a8b-9c3d-1e2f3a4b5c6d:2:RESULT',
    ]);
    // references only: nothing of the event's data
    expect(Object.keys(rows[0]!).sort()).toEqual(['case_id', 'data_set', 'event_at', 'event_type', 'idempotency_key', 'position', 'revision', 'target']);
  });

  it('only the configured targets', () => {
    expect(outboxRows([ev('CaseAccepted', 1)], ['haochaping']).map((r) => r.target)).toEqual(['haochaping']);
    expect(outboxRows([ev('CaseAccepted', 1)], [])).toEqual([]);
  });
});

describe('hub answers, signatures, backoff', () => {
  it('classifies answers: success, duplicate (delivered), failure', () => {
    expect(classifyAnswer(200, '{"code":"200","msg":"成功"}')).toEqual({ ok: true, duplicate: false });
    expect(classifyAnswer(200, '{"code":"500","msg":"评价数据不可重复"}')).toEqual({ ok: true, duplicate: true });
    expect(classifyAnswer(409, '')).toEqual({ ok: true, duplicate: true });
    expect(classifyAnswer(200, '{"code":"E01","msg":"参数错误"}')).toMatchObject({ ok: false });
    expect(classifyAnswer(500, 'oops')).toMatchObject({ ok: false, error: 'HTTP 500: oops' });
  });

  it('signs the envelope with SM2; a changed field fails verification', () => {
    const keys = hubKeys();
    const env = signEnvelope({ appCode: 'govcase', msgType: 'pushService', timestamp: 't', nonce: 'n', data: { projectNo: 'P1' } as never }, keys.privateKey);
    expect(verifyEnvelope(env, keys.publicKey)).toBe(true);
    expect(verifyEnvelope({ ...env, nonce: 'other' }, keys.publicKey)).toBe(false);
    expect(publicKeyOf(keys.privateKey)).toBe(keys.publicKey);
  });

  it('backs off exponentially, capped, with ±20 % jitter', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 10].map((a) => retryDelayMs(a, 1_000, 5_000, mid))).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    expect(retryDelayMs(1, 1_000, 5_000, () => 0)).toBe(800);
    expect(retryDelayMs(1, 1_000, 5_000, () => 1)).toBe(1_200);
  });
});

describe('configuration', () => {
  const key = 'a'.repeat(64);
  it('enables the targets whose URL is set', () => {
    expect(configuredExchangeTargets(loadEnv({}))).toEqual([]);
    expect(configuredExchangeTargets(loadEnv({ EXCHANGE_DB_URL: 'mysql://root@127.0.0.1:3306/x', HAOCHAPING_URL: 'http://127.0.0.1:1/p', HAOCHAPING_SIGNING_KEY: key })))
      .toEqual(['exchange_db', 'haochaping']);
  });
  it('refuses a hub without its signing key, plain http in production, and a non-MySQL exchange URL', () => {
    const problems = (env: Record<string, string>) => {
      try { loadEnv(env); return []; } catch (err) { return (err as ConfigError).problems; }
    };
    expect(problems({ HAOCHAPING_URL: 'https://hub/p' })).toEqual([expect.stringMatching(/^HAOCHAPING_SIGNING_KEY: required/)]);
    expect(problems({ HAOCHAPING_URL: 'http://hub/p', HAOCHAPING_SIGNING_KEY: key, NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), GOVCASE_MASTER_KEY: '0'.repeat(32) }))
      .toContainEqual(expect.stringMatching(/^HAOCHAPING_URL: must be https/));
    expect(problems({ EXCHANGE_DB_URL: 'postgres://x' })).toEqual([expect.stringMatching(/^EXCHANGE_DB_URL: must start with mysql/)]);
  });
});
