import type pg from 'pg';
import type { KeyRing } from '../../application/personalData.ts';
import { toGovcaseError } from './pool.ts';

/** The wrapped data keys in `personal_data_keys` (migration 006). */
export const getPostgresKeyRing = (pool: pg.Pool): KeyRing => ({
  async putIfAbsent(subject, wrapped) {
    try {
      // insert-or-read in one statement: two first submissions of one subject agree on one key
      const res = await pool.query<{ wrapped: Buffer }>({
        name: 'govcase_key_put',
        text: `with ins as (
                 insert into personal_data_keys (subject, wrapped) values ($1, $2)
                 on conflict (subject) do nothing returning wrapped)
               select wrapped from ins
               union all
               select wrapped from personal_data_keys where subject = $1 and not exists (select 1 from ins)`,
        values: [subject, wrapped],
      });
      if (res.rows[0]) return res.rows[0].wrapped;
      // the racing insert committed between our two reads: it is there now
      const again = await pool.query<{ wrapped: Buffer }>('select wrapped from personal_data_keys where subject = $1', [subject]);
      if (!again.rows[0]) throw new Error(`no data key for subject ${subject.slice(0, 12)}… after insert`);
      return again.rows[0].wrapped;
    } catch (err) {
      throw toGovcaseError(err, 'personal data key');
    }
  },
  async get(subjects) {
    try {
      const res = await pool.query<{ subject: string; wrapped: Buffer }>({
        name: 'govcase_key_get',
        text: 'select subject, wrapped from personal_data_keys where subject = any($1::text[])',
        values: [subjects],
      });
      return new Map(res.rows.map((r) => [r.subject, r.wrapped]));
    } catch (err) {
      throw toGovcaseError(err, 'personal data key');
    }
  },
  async destroy(subject, record) {
    try {
      const res = await pool.query<{ existed: boolean }>(
        `with del as (delete from personal_data_keys where subject = $1 returning 1)
         insert into personal_data_erasures (subject, legal_basis, actor_id, key_existed)
         select $1, $2, $3, exists (select 1 from del) returning key_existed as existed`,
        [subject, record.legalBasis, record.actorId],
      );
      return res.rows[0]?.existed ?? false;
    } catch (err) {
      throw toGovcaseError(err, 'personal data key');
    }
  },
});
