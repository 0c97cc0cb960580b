import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCase } from '../../application/caseStream.ts';
import { handleCaseCommand, type CaseDeps } from '../../application/cases.ts';
import { caseStreamId } from '../../domain/case/events.ts';
import { ServiceItemRulesSchema } from '../../domain/serviceItem/serviceItem.ts';
import { createCasesProjection } from '../../projections/cases/casesProjection.ts';
import { rebuildProjection } from '../../projections/rebuild.ts';
import { createTestDatabase } from '../support/db.ts';
import { itemInput, people, testClock, writeSide } from '../support/app.ts';

describe('upcasting: a v1 CaseSubmitted read as v2, by the decider and the projections alike', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let deps: CaseDeps;
  beforeAll(async () => {
    db = await createTestDatabase('upcast');
    deps = writeSide(db, testClock('2026-03-02T09:00:00+08:00'));
  });
  afterAll(async () => db?.drop());

  it('folds and projects an imported v1 event (channel "1", no ownerId) as WINDOW / null, and the case still works', async () => {
    const caseId = randomUUID();
    const item = ServiceItemRulesSchema.parse(itemInput());
    // as the old platform stored it: never rewritten
    await deps.store.appendToStream(caseStreamId(caseId), [{
      type: 'CaseSubmitted',
      data: {
        caseId, caseNumber: '520102-20260302-000001-5', item, departmentCode: item.departmentCode, regionCode: item.regionCode,
        applicant: { name: '李四', idType: '111', idNumber: '520102198001011234' },
        materials: [{ name: '申请书', provided: true }, { name: '营业执照', provided: true }], channel: '1', submittedAt: '2026-03-02T01:00:00.000Z',
      },
      metadata: { actorId: 'migration', actorRole: 'system', occurredAt: '2026-03-02T01:00:00.000Z' },
    }], { expectedVersion: 'no_stream' });
    const { state } = await loadCase(deps.store, caseId);
    expect(state.status).toBe('SUBMITTED');
    if (state.status === 'NONE') throw new Error('unreachable');
    expect(state.channel).toBe('WINDOW');
    expect(state.ownerId).toBeNull();
    const stored = (await deps.store.readStream(caseStreamId(caseId)))[0]!;
    expect((stored.data as { channel: unknown }).channel).toBe('1'); // history untouched
    const accepted = await handleCaseCommand(deps, caseId, { type: 'AcceptCase', data: {} }, { principal: people.clerk });
    expect(accepted.state.status).toBe('ACCEPTED');
    await rebuildProjection({ pool: db.pool, store: deps.store, projection: createCasesProjection({ blindIndex: (x) => x }), schema: db.schema });
    const row = (await db.pool.query('select channel, owner_id, status from cases where case_id = $1', [caseId])).rows[0];
    expect(row).toEqual({ channel: 'WINDOW', owner_id: null, status: 'ACCEPTED' });
  });
});
