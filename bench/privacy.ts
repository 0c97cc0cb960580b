/**
 * The cost of protecting personal data, measured in one run on one database:
 *   1. appends/s of a CaseSubmitted-sized event through the adapter alone (no hash), through the
 *      store (SM3 hash chain), and sealed with SM4 first (hash chain + encryption), 32 writers each;
 *   2. seal / open per second in memory (key cached);
 *   3. the time to erase a data subject who has 100 cases (key destroyed + 100 ApplicantDataErased).
 *
 *   npx tsx bench/privacy.ts [--appends 6000] [--writers 32] [--cases 100]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { submitCase } from '../application/cases.ts';
import { eraseApplicantData } from '../application/erasure.ts';
import { createEventStore, type NewEvent, type PreparedEvent } from '../application/eventStore.ts';
import { createVault } from '../application/personalData.ts';
import { systemClock } from '../application/ports.ts';
import { publishServiceItem } from '../application/serviceItems.ts';
import type { Applicant } from '../domain/case/events.ts';
import { getPostgresCaseNumbers } from '../infrastructure/postgres/caseNumbers.ts';
import { getPostgresKeyRing } from '../infrastructure/postgres/dataKeys.ts';
import { getPostgresEventStoreAdapter } from '../infrastructure/postgres/eventStore.ts';
import { migrate } from '../infrastructure/postgres/migrate.ts';
import { createPool } from '../infrastructure/postgres/pool.ts';
import { createCasesProjection } from '../projections/cases/casesProjection.ts';
import { rebuildProjection } from '../projections/rebuild.ts';
import { databaseUrl, dropSchemas, recreateSchema } from './db.ts';

const { values: args } = parseArgs({
  options: { appends: { type: 'string', default: '6000' }, writers: { type: 'string', default: '32' }, cases: { type: 'string', default: '100' } },
});
const APPENDS = Number(args.appends);
const WRITERS = Number(args.writers);
const CASES = Number(args.cases);
const MASTER = '00112233445566778899aabbccddeeff';
const SCHEMA = 'bench_privacy';

const applicantOf = (i: number): Applicant => ({
  name: `测试申请人${i}`, idType: '111', idNumber: `52010219900101${String(i % 10_000).padStart(4, '0')}`,
  phone: `139${String(i).padStart(8, '0')}`, address: '贵州省贵阳市南明区花果园大街一号',
});
const eventFor = (applicant: unknown): NewEvent => ({
  type: 'CaseSubmitted',
  data: { caseNumber: '520102-20261125-000001-X', applicant, channel: 'WINDOW', materials: [{ name: '申请书', provided: true }], formData: { purpose: '开店' } },
  metadata: { actorId: 'clerk-1', actorRole: 'clerk', departmentCode: 'GY-MARKET', occurredAt: new Date().toISOString() },
});

const timed = async (n: number, writers: number, one: (i: number) => Promise<void>) => {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: writers }, async () => {
    for (let i = next++; i < n; i = next++) await one(i);
  }));
  return n / ((performance.now() - t0) / 1000);
};

const main = async () => {
  const url = databaseUrl();
  await recreateSchema(url, SCHEMA);
  const pool = createPool({ connectionString: url, schema: SCHEMA, max: 40 });
  await migrate(pool);
  const adapter = getPostgresEventStoreAdapter({ pool, connectionString: url, schema: SCHEMA });
  const store = createEventStore(adapter);
  const vault = createVault({ masterKeyHex: MASTER, keys: getPostgresKeyRing(pool) });
  const out: Record<string, number> = {};
  try {
    // warm up the pool and the prepared statement
    await timed(300, WRITERS, async () => void (await store.appendToStream(`bench-${randomUUID()}`, [eventFor(applicantOf(0))], { expectedVersion: 'no_stream' })));

    // 1. three ways of appending the same-sized event, interleaved rounds so drift hits all alike
    const rounds = 3;
    const sums = { adapter: 0, hashed: 0, sealed: 0 };
    for (let r = 0; r < rounds; r++) {
      sums.adapter += await timed(APPENDS, WRITERS, async (i) => {
        const e = eventFor(applicantOf(i));
        const streamId = `bench-${randomUUID()}`;
        const prepared: PreparedEvent = { id: randomUUID(), streamId, revision: 0, type: e.type, data: e.data, metadata: e.metadata, hash: '0'.repeat(64), previousHash: null };
        const res = await adapter.append(streamId, [prepared], -1, undefined);
        if (res.status !== 'ok') throw new Error(res.status);
      });
      sums.hashed += await timed(APPENDS, WRITERS, async (i) => {
        await store.appendToStream(`bench-${randomUUID()}`, [eventFor(applicantOf(i))], { expectedVersion: 'no_stream' });
      });
      sums.sealed += await timed(APPENDS, WRITERS, async (i) => {
        const sealed = await vault.seal(applicantOf(i), {});
        await store.appendToStream(`bench-${randomUUID()}`, [eventFor(sealed)], { expectedVersion: 'no_stream' });
      });
    }
    out.appendsPerSecAdapterOnly = Math.round(sums.adapter / rounds);
    out.appendsPerSecHashChain = Math.round(sums.hashed / rounds);
    out.appendsPerSecHashChainAndSm4 = Math.round(sums.sealed / rounds);

    // 2. in memory, keys cached (10,000 subjects already have keys from step 1)
    const sample = Array.from({ length: 2_000 }, (_, i) => applicantOf(i));
    await Promise.all(sample.map((a) => vault.seal(a)));
    let t0 = performance.now();
    const sealedSample = [];
    for (const a of sample) sealedSample.push(await vault.seal(a));
    out.sealsPerSec = Math.round(sample.length / ((performance.now() - t0) / 1000));
    t0 = performance.now();
    await vault.openMany(sealedSample);
    out.opensPerSec = Math.round(sample.length / ((performance.now() - t0) / 1000));

    // 3. erase a subject with CASES cases, through the application layer as the API does it
    const deps = { store, clock: systemClock, ids: { uuid: () => randomUUID() }, caseNumbers: getPostgresCaseNumbers(pool), vault };
    const admin = { id: 'admin-1', roles: ['admin' as const] };
    const clerk = { id: 'clerk-1', roles: ['clerk' as const], departmentCode: 'GY-MARKET', regionCode: '520102' };
    await publishServiceItem(deps, {
      itemCode: 'BENCH-PRIV', name: '食品经营许可', itemType: '01', departmentCode: 'GY-MARKET', departmentName: '市场监督管理局',
      regionCode: '520102', caseType: 'PROMISED', legalLimitDays: 20, promisedLimitDays: 10,
    }, { principal: admin });
    const subject = { name: '被遗忘者', idType: '111', idNumber: '52010219800101999X', phone: '13900000000' };
    for (let i = 0; i < CASES; i++)
      await submitCase(deps, { itemCode: 'BENCH-PRIV', applicant: subject, materials: [], channel: 'WINDOW' }, { principal: clerk });
    const cases = createCasesProjection({ blindIndex: vault.subjectOf });
    // the read model the erasure searches (built from the log; not part of the timing)
    await rebuildProjection({ pool, store, projection: cases, schema: SCHEMA });
    t0 = performance.now();
    const result = await eraseApplicantData(deps, async (s) => (await pool.query<{ case_id: string }>('select case_id from cases where applicant_index = $1', [s])).rows.map((r) => r.case_id),
      { subjectIdNumber: subject.idNumber, legalBasis: '个人信息保护法第47条' }, { principal: admin });
    out.eraseMs = Math.round(performance.now() - t0);
    out.erasedCases = result.casesAffected;
  } finally {
    await store.close();
    await pool.end();
    await dropSchemas(url, [SCHEMA]);
  }
  console.log(JSON.stringify({ bench: 'privacy', appends: APPENDS, writers: WRITERS, ...out }));
  console.log(`appends/s (${WRITERS} writers, ${APPENDS} × 3 rounds each): adapter only ${out.appendsPerSecAdapterOnly}, + SM3 hash chain ${out.appendsPerSecHashChain}, + SM4 sealing ${out.appendsPerSecHashChainAndSm4}`);
  console.log(`in memory: ${out.sealsPerSec} seals/s, ${out.opensPerSec} opens/s`);
  console.log(`erasing a subject with ${out.erasedCases} cases: ${out.eraseMs} ms`);
};

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
