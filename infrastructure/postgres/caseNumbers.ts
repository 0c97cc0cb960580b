import type pg from 'pg';
import type { CaseNumberSource } from '../../application/ports.ts';
import { toGovcaseError } from './pool.ts';

export const getPostgresCaseNumbers = (pool: pg.Pool): CaseNumberSource => ({
  async next(regionCode, date) {
    try {
      const res = await pool.query<{ last_serial: number }>({
        name: 'govcase_case_number',
        text: `insert into case_number_serials (region_code, day, last_serial) values ($1, $2, 1)
               on conflict (region_code, day) do update set last_serial = case_number_serials.last_serial + 1
               returning last_serial`,
        values: [regionCode, date],
      });
      return res.rows[0]!.last_serial;
    } catch (err) {
      throw toGovcaseError(err, 'case number');
    }
  },
});
