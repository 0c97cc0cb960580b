import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVault, SealError, splitPersonalForm } from '../../application/personalData.ts';
import { getPostgresKeyRing } from '../../infrastructure/postgres/dataKeys.ts';
import { createTestDatabase } from '../support/db.ts';

/** The vault over the real key table: sealing, authentication, key binding, concurrency, erasure. */
describe('personal data vault', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const MASTER = 'ffeeddccbbaa99887766554433221100';
  const person = { name: '李四', idType: '111', idNumber: '52010219851212002x', phone: '13800001111', address: '遵义市红花岗区', kind: '自然人' };

  beforeAll(async () => {
    db = await createTestDatabase('vault');
  });
  afterAll(async () => {
    await db?.drop();
  });

  const vault = (cacheTtlMs = 60_000) => createVault({ masterKeyHex: MASTER, keys: getPostgresKeyRing(db.pool), cacheTtlMs });

  it('seals to ciphertext that names the subject by blind index, and opens back to the same values', async () => {
    const v = vault();
    const sealed = await v.seal(person, { income: 80_000 });
    expect(sealed.idType).toBe('111');
    expect(sealed.kind).toBe('自然人');
    expect(sealed.sealed.subject).toBe(v.subjectOf('52010219851212002X ')); // case and spaces do not matter
    expect(JSON.stringify(sealed)).not.toContain('李四');
    expect(JSON.stringify(sealed)).not.toContain('52010219851212002');
    expect(await v.open(sealed)).toEqual({ applicant: person, personalForm: { income: 80_000 } });
    // two seals of the same values differ (fresh IV), both open
    const again = await v.seal(person);
    expect(again.sealed.data).not.toBe(sealed.sealed.data);
    expect((await vault().open(again))?.applicant).toEqual(person); // another process, key from the table
  });

  it('refuses an altered ciphertext, MAC or subject instead of returning garbage', async () => {
    const v = vault();
    const sealed = await v.seal(person);
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    await expect(v.open({ ...sealed, sealed: { ...sealed.sealed, data: flip(sealed.sealed.data) } })).rejects.toBeInstanceOf(SealError);
    await expect(v.open({ ...sealed, sealed: { ...sealed.sealed, mac: '0'.repeat(64) } })).rejects.toBeInstanceOf(SealError);
    // another subject's key cannot open it either (the subject is authenticated)
    const other = await v.seal({ ...person, idNumber: '520102199901010011' });
    await expect(v.open({ ...sealed, sealed: { ...sealed.sealed, subject: other.sealed.subject } })).rejects.toBeInstanceOf(SealError);
  });

  it('a wrapped key moved onto another subject, or read under another master key, does not unwrap', async () => {
    const v = vault();
    const a = await v.seal({ ...person, idNumber: 'A0000001' });
    const b = await v.seal({ ...person, idNumber: 'B0000002' });
    await db.pool.query(`update personal_data_keys set wrapped = (select wrapped from personal_data_keys where subject = $1) where subject = $2`, [a.sealed.subject, b.sealed.subject]);
    await expect(vault().open(b)).rejects.toBeInstanceOf(SealError);
    const wrongMaster = createVault({ masterKeyHex: '00'.repeat(16), keys: getPostgresKeyRing(db.pool) });
    const sealedUnderRight = await v.seal({ ...person, idNumber: 'C0000003' });
    await expect(wrongMaster.open({ ...sealedUnderRight, sealed: { ...sealedUnderRight.sealed } })).rejects.toBeInstanceOf(SealError);
  });

  it('twenty first submissions of one new person at once agree on one key', async () => {
    const vaults = Array.from({ length: 20 }, () => vault());
    const sealed = await Promise.all(vaults.map((v) => v.seal({ ...person, idNumber: 'RACE0001' })));
    const rows = await db.pool.query('select count(*)::int as n from personal_data_keys where subject = $1', [sealed[0]!.sealed.subject]);
    expect(rows.rows[0].n).toBe(1);
    for (const s of sealed) expect((await vault().open(s))?.applicant.idNumber).toBe('RACE0001');
  });

  it('erasure destroys the key: nothing opens it any more, on this vault at once and on others after their cache', async () => {
    const here = vault();
    const elsewhere = vault(0); // no cache: asks the table every time
    const sealed = await here.seal({ ...person, idNumber: 'ERASE001' });
    expect(await elsewhere.open(sealed)).not.toBeNull();
    expect(await here.erase(sealed.sealed.subject, { legalBasis: '个人信息保护法第47条', actorId: 'admin-1' })).toBe(true);
    expect(await here.open(sealed)).toBeNull();
    expect(await elsewhere.open(sealed)).toBeNull();
    expect(await here.erase(sealed.sealed.subject, { legalBasis: 'again', actorId: 'admin-1' })).toBe(false);
    const log = await db.pool.query('select key_existed from personal_data_erasures where subject = $1 order by erased_at', [sealed.sealed.subject]);
    expect(log.rows.map((r) => r.key_existed)).toEqual([true, false]);
  });

  it('openMany opens a mixed batch with one look-up; a plain record passes through', async () => {
    const v = vault();
    const s1 = await v.seal({ ...person, idNumber: 'MANY0001' });
    const s2 = await v.seal({ ...person, idNumber: 'MANY0002' });
    const out = await vault().openMany([s1, person, s2]);
    expect(out.map((o) => o?.applicant.idNumber)).toEqual(['MANY0001', person.idNumber, 'MANY0002']);
  });

  it('splits a form by the item’s personal fields', () => {
    expect(splitPersonalForm({ a: 1, income: 2 }, ['income'])).toEqual({ open: { a: 1 }, personal: { income: 2 } });
    expect(splitPersonalForm(undefined, ['income'])).toEqual({ open: undefined, personal: {} });
    expect(splitPersonalForm({ a: 1 }, undefined)).toEqual({ open: { a: 1 }, personal: {} });
  });
});
