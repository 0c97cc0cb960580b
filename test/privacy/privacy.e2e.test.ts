import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitCase } from '../../application/cases.ts';
import { systemClock } from '../../application/ports.ts';
import { publishServiceItem } from '../../application/serviceItems.ts';
import { createCasesProjection } from '../../projections/cases/casesProjection.ts';
import { maskName } from '../../projections/cases/queries.ts';
import { rebuildProjection } from '../../projections/rebuild.ts';
import { DEPT, REGION, itemInput, people, writeSide } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';
import { codes, gql, startTestServer, token } from '../support/server.ts';

/**
 * Personal data over the real API and in the real database: sealed with SM4 before the store,
 * nowhere in a `pg_dump` in the clear, opened per reader (clear / masked), found by ID number through
 * the blind index, and crypto-shredded by `eraseApplicantData` without breaking a hash chain.
 */

const run = promisify(execFile);

const SEEDED = 300;
const idNumberOf = (i: number) => `5201021990${String(i).padStart(4, '0')}123X`;
const nameOf = (i: number) => `测试申请人${String(i).padStart(4, '0')}`;
const phoneOf = (i: number) => `139${String(i).padStart(8, '0')}`;
const HOME = '贵阳市南明区花果园大街一号';
const SECRET_FORM = '家庭年收入八万元整';

const tokens = async () => ({
  clerk: await token({ sub: people.clerk.id, roles: ['clerk'], dept: DEPT, region: REGION }),
  supervisor: await token({ sub: people.supervisor.id, roles: ['supervisor'], region: '520100' }),
  auditor: await token({ sub: 'auditor-1', roles: ['auditor'] }),
  admin: await token({ sub: 'admin-1', roles: ['admin'] }),
  applicant: await token({ sub: people.applicant.id, roles: ['applicant'] }),
});

const CASE_FIELDS = `id status applicant { name idType idNumber phone address erased }`;

describe('personal data: sealed, masked, searchable, erasable', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  const caseIds: string[] = [];
  let t: Awaited<ReturnType<typeof tokens>>;
  const itemCode = `PRIV-${randomUUID().slice(0, 6)}`;

  const caughtUp = async () => server.runner.waitFor('cases', async () => (await server.runner.status()).every((s) => s.lag === 0), 30_000);

  beforeAll(async () => {
    t = await tokens();
    db = await createTestDatabase('privacy');
    server = await startTestServer(db);
    const deps = { ...writeSide(db, systemClock), store: db.newStore() };
    await publishServiceItem(deps, { ...itemInput(itemCode), personalFields: ['householdIncome'] }, { principal: people.admin });
    // a few hundred cases, as the window files them (the clerk's department): subject i has cases i and i+1 of the same person for i < 3
    for (let i = 0; i < SEEDED; i++) {
      const who = i < 6 ? Math.floor(i / 2) : i; // subjects 0,1,2 have two cases each
      const r = await submitCase(deps, {
        itemCode,
        applicant: { name: nameOf(who), idType: '111', idNumber: idNumberOf(who), phone: phoneOf(who), address: HOME },
        materials: [{ name: '申请书', provided: true }],
        channel: 'WINDOW',
        formData: { householdIncome: SECRET_FORM, purpose: '开店' },
      }, { principal: people.clerk });
      caseIds.push(r.caseId);
    }
    expect(await caughtUp()).toBe(true);
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  const dump = async () => (await run('pg_dump', ['--no-owner', '-n', db.schema, db.connectionString], { maxBuffer: 512 * 1024 * 1024 })).stdout;

  it('pg_dump of the whole schema holds no ID number, name, phone, address or personal form field in the clear', async () => {
    const text = await dump();
    expect(text.length).toBeGreaterThan(100_000); // the dump is real: events, read models, keys
    expect(text).toContain('SM4-CTR+HMAC-SM3/v1');
    for (const i of [0, 1, 2, 7, 150, SEEDED - 1]) {
      expect(text).not.toContain(idNumberOf(i));
      expect(text).not.toContain(nameOf(i));
      expect(text).not.toContain(phoneOf(i));
    }
    expect(text).not.toContain(HOME);
    expect(text).not.toContain(SECRET_FORM);
    expect(text).toContain('开店'); // what the item does not mark as personal stays readable
  });

  it('the handling department reads in the clear; a supervisor reads masked; the history too', async () => {
    const id = caseIds[10]!;
    const clear = await gql(server.url, `query($id: ID!) { case(id: $id) { ${CASE_FIELDS} history { type data } } }`, { id }, t.clerk);
    expect(clear.data!.case.applicant).toEqual({ name: nameOf(10), idType: '111', idNumber: idNumberOf(10), phone: phoneOf(10), address: HOME, erased: false });
    const submitted = clear.data!.case.history[0];
    expect(submitted.data.applicant).toMatchObject({ name: nameOf(10), idNumber: idNumberOf(10) });
    expect(submitted.data.formData).toEqual({ purpose: '开店', householdIncome: SECRET_FORM });

    const masked = await gql(server.url, `query($id: ID!) { case(id: $id) { ${CASE_FIELDS} history { data } } }`, { id }, t.supervisor);
    expect(masked.data!.case.applicant).toEqual({ name: maskName(nameOf(10)), idType: '111', idNumber: '520102********123X', phone: '139****0010', address: '贵阳市南明区*******', erased: false });
    expect(masked.data!.case.history[0].data.applicant).toMatchObject({ name: maskName(nameOf(10)), idNumber: '520102********123X' });
    expect(masked.data!.case.history[0].data.formData.householdIncome).toBe('***');
  });

  it('an auditor reads raw streams and the log masked, never the ciphertext as if it were data', async () => {
    const s = await gql(server.url, `query($s: String!) { stream(streamId: $s) { type data } }`, { s: `case-${caseIds[20]}` }, t.auditor);
    expect(s.errors).toBeUndefined();
    expect(s.data!.stream[0].data.applicant).toEqual({ name: maskName(nameOf(20)), idType: '111', idNumber: '520102********123X', phone: '139****0020', address: '贵阳市南明区*******' });
    const page = await gql(server.url, `{ events(limit: 50, types: ["CaseSubmitted"]) { events { data } } }`, {}, t.auditor);
    for (const e of page.data!.events.events) expect(JSON.stringify(e.data)).not.toMatch(/5201021990\d{4}123X/);
  });

  it('searching by ID number finds the subject’s cases through the blind index', async () => {
    const r = await gql(server.url, `query($n: String!) { cases(filter: { applicantIdNumber: $n }) { totalCount edges { node { id } } } }`, { n: idNumberOf(1) }, t.clerk);
    expect(r.data!.cases.totalCount).toBe(2);
    expect(r.data!.cases.edges.map((e: { node: { id: string } }) => e.node.id).sort()).toEqual([caseIds[2], caseIds[3]].sort());
    const lower = await gql(server.url, `query($n: String!) { cases(filter: { applicantIdNumber: $n }) { totalCount } }`, { n: idNumberOf(1).toLowerCase() }, t.clerk);
    expect(lower.data!.cases.totalCount).toBe(2);
  });

  it('only an admin may erase; the refusal changes nothing', async () => {
    for (const who of [t.clerk, t.auditor, t.supervisor, t.applicant]) {
      const r = await gql(server.url, `mutation($i: EraseApplicantDataInput!) { eraseApplicantData(input: $i) { subjectsErased } }`,
        { i: { subjectIdNumber: idNumberOf(0), legalBasis: '个人信息保护法第47条' } }, who);
      expect(codes(r)).toEqual(['FORBIDDEN']);
    }
    const still = await gql(server.url, `query($id: ID!) { case(id: $id) { ${CASE_FIELDS} } }`, { id: caseIds[0] }, t.clerk);
    expect(still.data!.case.applicant.idNumber).toBe(idNumberOf(0));
  });

  it('erasure: the key is gone, every case shows erased, chains verify, other subjects untouched, a rebuild shows nothing', async () => {
    const erase = `mutation($i: EraseApplicantDataInput!) { eraseApplicantData(input: $i) { subjectsErased casesAffected } }`;
    const r = await gql(server.url, erase, { i: { subjectIdNumber: idNumberOf(0), legalBasis: '个人信息保护法第47条', commandId: 'erase-subject-0' } }, t.admin);
    expect(r.errors).toBeUndefined();
    expect(r.data!.eraseApplicantData).toEqual({ subjectsErased: 1, casesAffected: 2 });
    // a retry of the same command appends nothing more
    const again = await gql(server.url, erase, { i: { subjectIdNumber: idNumberOf(0), legalBasis: '个人信息保护法第47条', commandId: 'erase-subject-0' } }, t.admin);
    expect(again.data!.eraseApplicantData.subjectsErased).toBe(0);
    expect(await caughtUp()).toBe(true);

    for (const id of [caseIds[0]!, caseIds[1]!]) {
      for (const who of [t.clerk, t.supervisor]) {
        const v = await gql(server.url, `query($id: ID!) { case(id: $id) { ${CASE_FIELDS} history { type data } } caseAt(id: $id, at: "2099-01-01T00:00:00Z") { applicant { name idNumber erased } } }`, { id }, who);
        expect(v.errors).toBeUndefined();
        expect(v.data!.case.applicant).toEqual({ name: null, idType: null, idNumber: null, phone: null, address: null, erased: true });
        expect(v.data!.caseAt.applicant).toEqual({ name: null, idNumber: null, erased: true });
        const types = v.data!.case.history.map((e: { type: string }) => e.type);
        expect(types).toEqual(['CaseSubmitted', 'ApplicantDataErased']);
        const body = JSON.stringify(v.data);
        expect(body).not.toContain(idNumberOf(0));
        expect(body).not.toContain(nameOf(0));
        expect(body).not.toContain(SECRET_FORM);
        expect(v.data!.case.history[1].data).toEqual({ legalBasis: '个人信息保护法第47条' });
      }
      const chain = await gql(server.url, `query($s: String!) { verifyIntegrity(streamId: $s) { ok eventsChecked } }`, { s: `case-${id}` }, t.auditor);
      expect(chain.data!.verifyIntegrity).toMatchObject({ ok: true, eventsChecked: 2 });
    }
    // the search no longer finds the subject
    const found = await gql(server.url, `query($n: String!) { cases(filter: { applicantIdNumber: $n }) { totalCount } }`, { n: idNumberOf(0) }, t.clerk);
    expect(found.data!.cases.totalCount).toBe(0);
    // another subject is untouched
    const other = await gql(server.url, `query($id: ID!) { case(id: $id) { ${CASE_FIELDS} } }`, { id: caseIds[2] }, t.clerk);
    expect(other.data!.case.applicant).toMatchObject({ name: nameOf(1), idNumber: idNumberOf(1), erased: false });

    // the database keeps the record of the erasure, not the key
    const keys = await db.pool.query('select count(*)::int as n from personal_data_keys');
    expect(keys.rows[0].n).toBe(SEEDED - 3 - 1); // 297 subjects, one erased
    const record = await db.pool.query('select legal_basis, actor_id, key_existed from personal_data_erasures order by erased_at');
    expect(record.rows[0]).toEqual({ legal_basis: '个人信息保护法第47条', actor_id: 'admin-1', key_existed: true });

    // a rebuild of the cases read model from the log still shows nothing
    await rebuildProjection({ pool: db.pool, store: db.newStore(), projection: createCasesProjection({ blindIndex: (x) => x }), schema: db.schema });
    const rebuilt = await db.pool.query(`select erased, applicant_index, state->'applicant' as applicant from cases where case_id = $1`, [caseIds[0]]);
    expect(rebuilt.rows[0]).toEqual({ erased: true, applicant_index: null, applicant: { name: '', idType: '111', idNumber: '' } });
    const afterRebuild = await gql(server.url, `query($id: ID!) { case(id: $id) { applicant { erased name } } }`, { id: caseIds[1] }, t.clerk);
    expect(afterRebuild.data!.case.applicant).toEqual({ erased: true, name: null });
  });
});
