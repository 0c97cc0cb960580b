import type pg from 'pg';
import type { CaseNumberSource } from '../../application/ports.ts';
import { toGovcaseError } from './pool.ts';

/**
 * Serials of the 办件编号 per region and day. Each process reserves a block of serials at a time
 * (one row update per block instead of per case: the row is hot, and every update of it waits for
 * the previous one's commit). Numbers stay unique and increase within a process; a process that
 * stops leaves the rest of its block unused (gaps, never duplicates).
 */
export const getPostgresCaseNumbers = (pool: pg.Pool, blockSize = 20): CaseNumberSource => {
  const blocks = new Map<string, { next: number; last: number }>();
  const pending = new Map<string, Promise<void>>();

  const reserve = async (regionCode: string, date: string, key: string) => {
    try {
      const res = await pool.query<{ last_serial: number }>({
        name: 'govcase_case_number_block',
        text: `insert into case_number_serials (region_code, day, last_serial) values ($1, $2, $3)
               on conflict (region_code, day) do update set last_serial = case_number_serials.last_serial + $3
               returning last_serial`,
        values: [regionCode, date, blockSize],
      });
      const last = res.rows[0]!.last_serial;
      blocks.set(key, { next: last - blockSize + 1, last });
    } catch (err) {
      throw toGovcaseError(err, 'case number');
    }
  };

  return {
    async next(regionCode, date) {
      const key = `${regionCode}|${date}`;
      for (;;) {
        const block = blocks.get(key);
        if (block && block.next <= block.last) return block.next++;
        let p = pending.get(key);
        if (!p) {
          p = reserve(regionCode, date, key).finally(() => pending.delete(key));
          pending.set(key, p);
        }
        await p;
      }
    },
  };
};
