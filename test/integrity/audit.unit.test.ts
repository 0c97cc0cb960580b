import { describe, expect, it } from 'vitest';
import { aggregateRefusal, auditedRole, refusalBucket, type AggregatedRefusal, type RefusalRecord } from '../../application/audit.ts';

const refusal = (over: Partial<RefusalRecord> = {}): RefusalRecord => ({
  at: '2026-11-25T10:00:05.000Z', code: 'FORBIDDEN', actor: 'clerk-1', actorRole: 'clerk', operation: 'events',
  reason: 'reading raw event streams needs the auditor role', sourceAddress: '10.0.0.1', requestId: 'req-1', ...over,
});

describe('refusal aggregation', () => {
  it('the same who, what, why and where within a window is one entry with a count', () => {
    const m = new Map<string, AggregatedRefusal>();
    aggregateRefusal(m, refusal(), 60_000);
    aggregateRefusal(m, refusal({ at: '2026-11-25T10:00:50.000Z', requestId: 'req-2' }), 60_000);
    aggregateRefusal(m, refusal({ at: '2026-11-25T10:00:20.000Z' }), 60_000);
    expect([...m.values()]).toEqual([expect.objectContaining({
      count: 3, windowStart: '2026-11-25T10:00:00.000Z', firstAt: '2026-11-25T10:00:05.000Z', lastAt: '2026-11-25T10:00:50.000Z', requestId: 'req-1',
    })]);
  });
  it('another window, actor, operation, reason or address is another entry', () => {
    const m = new Map<string, AggregatedRefusal>();
    for (const r of [refusal(), refusal({ at: '2026-11-25T10:01:01.000Z' }), refusal({ actor: 'clerk-2' }), refusal({ operation: 'stream' }),
      refusal({ reason: 'other' }), refusal({ sourceAddress: '10.0.0.2' }), refusal({ code: 'RATE_LIMITED' })]) aggregateRefusal(m, r, 60_000);
    expect(m.size).toBe(7);
    expect(refusalBucket(refusal({ at: '2026-11-25T10:01:01.000Z' }), 60_000).windowStart).toBe('2026-11-25T10:01:00.000Z');
  });
  it('a flood of distinct refusals past the bound folds into one entry per window, code and operation', () => {
    const m = new Map<string, AggregatedRefusal>();
    for (let i = 0; i < 1_000; i++) aggregateRefusal(m, refusal({ actor: `token:${i}`, sourceAddress: `10.0.${i >> 8}.${i & 255}` }), 60_000, 10);
    expect(m.size).toBe(11);
    const folded = [...m.values()].find((r) => r.actor === '*')!;
    expect(folded).toMatchObject({ count: 990, reason: '(many)', sourceAddress: '*', operation: 'events' });
  });
  it('long reasons are cut to 200 characters', () => {
    const m = new Map<string, AggregatedRefusal>();
    aggregateRefusal(m, refusal({ reason: 'x'.repeat(1_000) }), 60_000);
    expect([...m.values()][0]!.reason).toHaveLength(200);
  });
});

describe('audited readers', () => {
  it('auditors and supervisors are audited, under that role; others are not', () => {
    expect(auditedRole({ id: 'a', roles: ['auditor'] })).toBe('auditor');
    expect(auditedRole({ id: 's', roles: ['supervisor'], regionCode: '520100' })).toBe('supervisor');
    expect(auditedRole({ id: 'x', roles: ['admin', 'auditor'] })).toBe('auditor');
    expect(auditedRole({ id: 'c', roles: ['clerk'], departmentCode: 'D' })).toBeNull();
    expect(auditedRole({ id: 'p', roles: ['applicant'] })).toBeNull();
  });
});
