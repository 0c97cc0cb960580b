import mysql from 'mysql2/promise';
import { toExchangeRows, type ExchangeRow, type ExchangeTable } from '../../domain/exchange/targets.ts';
import { byCase, errorText, type Delivery, type DeliveryOutcome, type TargetAdapter } from './types.ts';

/**
 * The front-end exchange database (前置库, MySQL/MariaDB): the `up_pro_*` tables, created if absent.
 * Each delivery writes its rows by `row_guid` (insert, or update an existing row with cd_operation
 * 'U') and records its idempotency key in `govcase_exchange_applied` in the same MySQL transaction,
 * so a delivery repeated after a crash (written here, not yet marked in the outbox) changes nothing.
 */
const COMMON = `
  row_guid     varchar(100) not null primary key,
  cd_batch     varchar(64) not null,
  cd_operation char(1) not null,
  cd_time      datetime not null,
  data_source  varchar(64) not null,`;

const v = (n = 200) => `varchar(${n}) null`;
const DT = 'datetime null';
const TEXT = 'text null';

export const EXCHANGE_TABLE_COLUMNS: Readonly<Record<ExchangeTable, Readonly<Record<string, string>>>> = {
  up_pro_accept: {
    project_no: v(50), catalog_code: v(50), task_code: v(50), task_handle_item: v(60), task_name: v(), task_version: v(20),
    apply_date: DT, apply_type: v(2), applyer_type: v(2), applyer_name: v(), applyer_page_type: v(20), applyer_page_code: v(60),
    contact_name: v(), contact_type: v(20), contact_code: v(60), contact_mobile: v(30), legal: v(), address: v(300), zip_code: v(10),
    org_code: v(30), org_name: v(), handle_user_name: v(100), accept_date: DT, accept_doc_no: v(100), project_type: v(2),
    project_name: v(), promise_date: DT,
  },
  up_pro_process: {
    project_no: v(50), event_name: v(20), process_name: v(100), handle_user_name: v(100), handle_explain: TEXT,
    event_start_time: DT, event_end_time: DT, remark: v(500),
  },
  up_pro_result: {
    project_no: v(50), result_date: DT, result_type: v(2), result_explain: TEXT, result_cetr_name: v(), result_cetr_no: v(100),
    is_delivery_results: v(1), handle_user_name: v(100), satisfaction: v(2), remark: v(500),
  },
  up_pro_special_procedure: {
    project_no: v(50), special_type: v(2), special_name: v(100), special_time: DT, special_reason: TEXT, applyer_user_name: v(100),
    end_time: DT, result: TEXT, special_explain: TEXT, handle_user: v(100),
  },
  up_pro_material: {
    project_no: v(50), material_name: v(), get_type: v(2), get_num: 'int null', material_attach_name: v(), remark: v(500),
  },
};

export const createExchangeTables = async (conn: mysql.Connection | mysql.Pool) => {
  for (const [table, columns] of Object.entries(EXCHANGE_TABLE_COLUMNS)) {
    await conn.query(
      `create table if not exists ${table} (${COMMON}
        ${Object.entries(columns).map(([c, type]) => `${c} ${type}`).join(',\n        ')},
        key ${table}_project_idx (project_no), key ${table}_cd_time_idx (cd_time)
      ) default charset = utf8mb4`,
    );
  }
  await conn.query(`create table if not exists govcase_exchange_applied (
    idempotency_key varchar(190) not null primary key, applied_at datetime not null
  ) default charset = utf8mb4`);
};

export interface ExchangeDbOptions {
  readonly url: string;
  readonly dataSource?: string;
  readonly connectionLimit?: number;
  readonly connectTimeoutMs?: number;
}

const cstNow = () => new Date(Date.now() + 8 * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
let batchSeq = 0;

export const createExchangeDbAdapter = (options: ExchangeDbOptions): TargetAdapter & { readonly pool: mysql.Pool } => {
  const url = options.url.replace(/^mariadb:\/\//, 'mysql://');
  const pool = mysql.createPool({
    uri: url, connectionLimit: options.connectionLimit ?? 4, connectTimeout: options.connectTimeoutMs ?? 5_000,
    charset: 'utf8mb4', dateStrings: true, timezone: '+08:00', enableKeepAlive: true,
  });
  pool.on('connection', (c) => { c.on('error', () => {}); });
  const dataSource = options.dataSource ?? 'govcase';
  let tablesReady = false;

  const writeRow = async (conn: mysql.PoolConnection, row: ExchangeRow, batch: string, time: string) => {
    const cols = Object.keys(row.columns);
    const names = ['row_guid', ...cols, 'cd_batch', 'cd_operation', 'cd_time', 'data_source'];
    const values = [row.rowGuid, ...cols.map((c) => row.columns[c] ?? null), batch, 'I', time, dataSource];
    const updates = [...cols, 'cd_batch', 'cd_time', 'data_source'].map((c) => `${c} = values(${c})`);
    await conn.query(
      `insert into ${row.table} (${names.join(', ')}) values (${names.map(() => '?').join(', ')})
       on duplicate key update ${updates.join(', ')}, cd_operation = 'U'`,
      values,
    );
  };

  /** One delivery inside an open transaction: false when it had been applied already. */
  const applyOne = async (conn: mysql.PoolConnection, d: Delivery, batch: string, time: string): Promise<boolean> => {
    const [res] = await conn.query<mysql.ResultSetHeader>(
      'insert ignore into govcase_exchange_applied (idempotency_key, applied_at) values (?, ?)', [d.row.idempotencyKey, time],
    );
    if (res.affectedRows === 0) return false;
    const rows = d.context ? d.records.flatMap((r) => toExchangeRows(r, d.context!)) : [];
    for (const row of rows) await writeRow(conn, row, batch, time);
    return true;
  };

  /**
   * A whole batch inside an open transaction, in few statements: which keys were applied before, the
   * new keys, then the rows as multi-row upserts grouped by table and column set, in waves so that a
   * row written twice in the batch (an application, then its acceptance) is written in that order.
   * Returns, per delivery, whether it was new.
   */
  const applyMany = async (conn: mysql.PoolConnection, batch: readonly Delivery[], cdBatch: string, time: string): Promise<boolean[]> => {
    const keys = batch.map((d) => d.row.idempotencyKey);
    const [seen] = await conn.query<mysql.RowDataPacket[]>('select idempotency_key from govcase_exchange_applied where idempotency_key in (?)', [keys]);
    const before = new Set(seen.map((r) => r.idempotency_key as string));
    const fresh = batch.map((d) => !before.has(d.row.idempotencyKey));
    const todo = batch.filter((_d, i) => fresh[i]);
    if (todo.length === 0) return fresh;
    await conn.query('insert ignore into govcase_exchange_applied (idempotency_key, applied_at) values ?', [todo.map((d) => [d.row.idempotencyKey, time])]);
    // the n-th write of a row_guid in this batch goes in wave n, so each row sees its writes in order
    const groups = new Map<string, ExchangeRow[]>();
    const writes = new Map<string, number>();
    for (const d of todo) {
      for (const row of d.context ? d.records.flatMap((r) => toExchangeRows(r, d.context!)) : []) {
        const wave = writes.get(row.rowGuid) ?? 0;
        writes.set(row.rowGuid, wave + 1);
        const sig = `${String(wave).padStart(4, '0')}|${row.table}|${Object.keys(row.columns).join(',')}`;
        const g = groups.get(sig);
        if (g) g.push(row);
        else groups.set(sig, [row]);
      }
    }
    for (const [, rows] of [...groups.entries()].sort(([a], [b]) => (a.slice(0, 4) < b.slice(0, 4) ? -1 : a.slice(0, 4) > b.slice(0, 4) ? 1 : 0))) {
      const first = rows[0]!;
      const cols = Object.keys(first.columns);
      const names = ['row_guid', ...cols, 'cd_batch', 'cd_operation', 'cd_time', 'data_source'];
      const updates = [...cols, 'cd_batch', 'cd_time', 'data_source'].map((c) => `${c} = values(${c})`);
      for (let i = 0; i < rows.length; i += 500) {
        const values = rows.slice(i, i + 500).map((row) => [row.rowGuid, ...cols.map((c) => row.columns[c] ?? null), cdBatch, 'I', time, dataSource]);
        await conn.query(
          `insert into ${first.table} (${names.join(', ')}) values ? on duplicate key update ${updates.join(', ')}, cd_operation = 'U'`,
          [values],
        );
      }
    }
    return fresh;
  };

  const inTransaction = async <T>(fn: (conn: mysql.PoolConnection) => Promise<T>): Promise<T> => {
    const conn = await pool.getConnection();
    let broken = false;
    try {
      await conn.beginTransaction();
      const out = await fn(conn);
      await conn.commit();
      return out;
    } catch (err) {
      await conn.rollback().catch(() => { broken = true; });
      broken ||= isConnectionError(err);
      throw err;
    } finally {
      if (broken) conn.destroy();
      else conn.release();
    }
  };

  return {
    target: 'exchange_db',
    pool,
    async deliver(batch) {
      if (batch.length === 0) return [];
      const time = cstNow();
      const cdBatch = `GC${time.replace(/\D/g, '')}${String(++batchSeq % 100_000).padStart(5, '0')}`;
      try {
        if (!tablesReady) {
          await createExchangeTables(pool);
          tablesReady = true;
        }
        // the common case: the whole batch in one transaction
        const applied = await inTransaction((conn) => applyMany(conn, batch, cdBatch, time));
        return batch.map((d, i) => ({ id: d.row.id, status: 'delivered', duplicate: !applied[i] }));
      } catch (err) {
        if (isConnectionError(err) || !tablesReady)
          return batch.map((d) => ({ id: d.row.id, status: 'failed', error: errorText(err) }));
      }
      // one delivery failed: isolate it, one transaction per delivery, in order within each case
      const outcomes = new Map<string, DeliveryOutcome>();
      for (const group of byCase(batch)) {
        let failed = false;
        for (const d of group) {
          if (failed) { outcomes.set(d.row.id, { id: d.row.id, status: 'skipped' }); continue; }
          try {
            const fresh = await inTransaction((conn) => applyOne(conn, d, cdBatch, time));
            outcomes.set(d.row.id, { id: d.row.id, status: 'delivered', duplicate: !fresh });
          } catch (err) {
            failed = true;
            outcomes.set(d.row.id, { id: d.row.id, status: 'failed', error: errorText(err) });
          }
        }
      }
      return batch.map((d) => outcomes.get(d.row.id)!);
    },
    async close() {
      await pool.end().catch(() => {});
    },
  };
};

const isConnectionError = (err: unknown): boolean => {
  const e = err as { code?: string; fatal?: boolean };
  return e.fatal === true || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']
    .includes(e.code ?? '');
};
