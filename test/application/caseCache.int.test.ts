import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaseStateCache, type CaseStateCache } from '../../application/caseCache.ts';
import { handleCaseCommand, submitCase, type CaseDeps } from '../../application/cases.ts';
import type { EventStore } from '../../application/eventStore.ts';
import { publishServiceItem } from '../../application/serviceItems.ts';
import { caseStreamId } from '../../domain/case/events.ts';
import type { Principal } from '../../domain/permissions.ts';
import { createTestDatabase } from '../support/db.ts';
import { DEPT, itemInput, people, REGION, submitInput, testClock, writeSide } from '../support/app.ts';
import { codeOf } from '../support/codes.ts';

/**
 * The write side's case cache against real PostgreSQL: two "nodes" share one store; node A remembers
 * cases, node B (no cache) moves them behind A's back. Whatever A remembers, every answer must be the
 * one a fresh read of the stream gives.
 */

/** A store that counts the stream reads going through it. */
const counting = (store: EventStore) => {
  const counter = { reads: 0 };
  const wrapped: EventStore = { ...store, readStream: (s, o) => { counter.reads++; return store.readStream(s, o); } };
  return { store: wrapped, counter };
};

describe('the case cache (write side)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let a: CaseDeps;
  let b: CaseDeps;
  let cache: CaseStateCache;
  let reads: { reads: number };
  const clock = testClock('2026-09-28T09:00:00+08:00');
  let itemCode: string;
  const otherDeptClerk: Principal = { id: 'clerk-7', roles: ['clerk'], departmentCode: 'GY-TAX', regionCode: REGION };

  beforeAll(async () => {
    db = await createTestDatabase('case_cache');
    const base = writeSide(db, clock);
    const c = counting(base.store);
    reads = c.counter;
    cache = createCaseStateCache(100);
    a = { ...base, store: c.store, cache };
    b = writeSide(db, clock); // another node: its own store instance, no cache
    itemCode = itemInput().itemCode;
    await publishServiceItem(a, itemInput(itemCode), { principal: people.admin });
  });
  afterAll(async () => db?.drop());

  const submit = async (deps: CaseDeps) => (await submitCase(deps, submitInput(itemCode), { principal: people.applicant, commandId: randomUUID() })).caseId;
  const run = (deps: CaseDeps, id: string, type: string, data: unknown, principal: Principal, expectedVersion?: number) =>
    handleCaseCommand(deps, id, { type, data } as never, { principal, commandId: randomUUID(), ...(expectedVersion !== undefined ? { expectedVersion } : {}) });

  it('a command on a case this node handled decides on the remembered state: no read of the stream', async () => {
    const id = await submit(a);
    const before = reads.reads;
    const accepted = await run(a, id, 'AcceptCase', {}, people.clerk);
    const reviewed = await run(a, id, 'CompleteReviewStep', { step: '承办', action: 'PASS', opinion: '材料齐全' }, people.reviewer);
    expect(reads.reads).toBe(before);
    expect([accepted.version, reviewed.version]).toEqual([1, 2]);
    expect(reviewed.state.status).toBe('ACCEPTED');
    expect((await a.store.readStream(caseStreamId(id))).map((e) => e.type)).toEqual(['CaseSubmitted', 'CaseAccepted', 'ReviewStepCompleted']);
  });

  it('a case moved by another node: the append proves the memory stale, the command is decided again on the stream', async () => {
    const id = await submit(a); // A remembers it at version 0
    await run(b, id, 'AcceptCase', {}, people.clerk); // B accepts: version 1
    // A's memory says SUBMITTED, so it decides an acceptance; the append (expected 0) conflicts, the stream
    // is read, and on it the acceptance is refused as the repeat it is
    expect(await codeOf(run(a, id, 'AcceptCase', {}, people.clerk))).toBe('INVALID_TRANSITION');
    // and a review step, refused on A's old memory, is allowed on the stream
    await run(b, id, 'CompleteReviewStep', { step: '承办', action: 'PASS', opinion: '同意' }, people.reviewer);
    const r = await run(a, id, 'CompleteReviewStep', { step: '审核', action: 'PASS', opinion: '同意' }, people.reviewer);
    expect(r.version).toBe(3);
    const types = (await a.store.readStream(caseStreamId(id))).map((e) => e.type);
    expect(types).toEqual(['CaseSubmitted', 'CaseAccepted', 'ReviewStepCompleted', 'ReviewStepCompleted']);
  });

  it('a refusal is never answered from memory: a transfer made elsewhere lets the new department act at once', async () => {
    const id = await submit(a);
    await run(a, id, 'AcceptCase', {}, people.clerk); // A remembers DEPT
    await run(b, id, 'TransferCase', { toDepartmentCode: 'GY-TAX', reason: '职责调整' }, people.reviewer);
    // on A's memory the case is DEPT's, so GY-TAX's clerk would be FORBIDDEN; the stream says otherwise
    const r = await run(a, id, 'CompleteReviewStep', { step: '承办', action: 'PASS', opinion: '同意' }, { ...otherDeptClerk, roles: ['reviewer'] });
    expect(r.state.status !== 'NONE' && r.state.departmentCode).toBe('GY-TAX');
    // and the old department is refused (A now remembers the transfer, and the stream agrees)
    expect(await codeOf(run(a, id, 'CompleteReviewStep', { step: '审核', action: 'PASS', opinion: '同意' }, people.reviewer))).toBe('FORBIDDEN');
    expect(DEPT).not.toBe('GY-TAX');
  });

  it('the client\'s expectedVersion is checked against the stream, not against a stale memory', async () => {
    const id = await submit(a); // A: version 0
    await run(b, id, 'AcceptCase', {}, people.clerk); // stream: version 1
    // the client knows version 1: right, although A remembers 0
    const ok = await run(a, id, 'CompleteReviewStep', { step: '承办', action: 'PASS', opinion: '同意' }, people.reviewer, 1);
    expect(ok.version).toBe(2);
    // a client with an old version is refused whatever A remembers
    expect(await codeOf(run(a, id, 'CompleteReviewStep', { step: '审核', action: 'PASS', opinion: '同意' }, people.reviewer, 1))).toBe('CONCURRENCY_CONFLICT');
    expect((await a.store.readStream(caseStreamId(id))).length).toBe(3);
  });

  it('a repeated command (same commandId) is answered with its first result, cached or not', async () => {
    const id = await submit(a);
    const commandId = randomUUID();
    const first = await handleCaseCommand(a, id, { type: 'AcceptCase', data: {} } as never, { principal: people.clerk, commandId });
    const again = await handleCaseCommand(a, id, { type: 'AcceptCase', data: {} } as never, { principal: people.clerk, commandId });
    expect(again.duplicate).toBe(true);
    expect(again.version).toBe(first.version);
    expect((await a.store.readStream(caseStreamId(id))).length).toBe(2);
  });

  it('20 concurrent commands on one case through the cached node: one acceptance, the rest refused, nothing doubled', async () => {
    const id = await submit(a);
    const codes = await Promise.all(Array.from({ length: 20 }, () => codeOf(run(a, id, 'AcceptCase', {}, people.clerk))));
    expect(codes.filter((c) => c === 'OK')).toHaveLength(1);
    expect(new Set(codes.filter((c) => c !== 'OK'))).toEqual(new Set(['INVALID_TRANSITION']));
    expect((await a.store.readStream(caseStreamId(id))).map((e) => e.type)).toEqual(['CaseSubmitted', 'CaseAccepted']);
  });
});
