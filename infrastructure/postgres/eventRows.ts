import pg from 'pg';
import { validationFailed } from '../../domain/errors.ts';
import type { RecordedEvent } from '../../application/eventStore.ts';

/**
 * Positions and event rows of the PostgreSQL store. A position is `<tx_id>:<position>`: the global
 * order is (transaction id, position), see docs/event-store.md.
 */
export interface TxPosition { readonly tx: bigint; readonly pos: bigint }

const BEGINNING: TxPosition = { tx: 0n, pos: 0n };

export const parsePosition = (p: string | null | undefined): TxPosition => {
  if (p === null || p === undefined || p === '') return BEGINNING;
  const m = /^(\d{1,20}):(\d{1,20})$/.exec(p);
  if (!m) throw validationFailed('position', `not a position of this store: ${p.slice(0, 50)}`);
  return { tx: BigInt(m[1]!), pos: BigInt(m[2]!) };
};

export const formatPosition = (tx: string | bigint, pos: string | bigint | number) => `${tx}:${pos}`;

export const comparePositions = (a: string, b: string): number => {
  const x = parsePosition(a), y = parsePosition(b);
  return x.tx !== y.tx ? (x.tx < y.tx ? -1 : 1) : x.pos === y.pos ? 0 : x.pos < y.pos ? -1 : 1;
};

/** The columns every read of events selects, in the order of `EventRow`. */
export const EVENT_COLUMNS = `position, tx_id::text as tx, stream_id, revision, event_id, type, data, metadata, hash, previous_hash, recorded_at`;

/**
 * Reads of events come back as arrays (no object per row with eleven named keys: pg builds those
 * field by field) and timestamps as PostgreSQL's text (`rawTimestamps`): the events of one
 * transaction share one timestamp (`now()`), so its ISO form is computed once (`isoTimes`), not
 * parsed into a Date and formatted again for every row (a catch-up read spent a tenth of its time there).
 */
export type EventRow = [
  position: string, tx: string, streamId: string, revision: string, eventId: string, type: string,
  data: unknown, metadata: RecordedEvent['metadata'], hash: string, previousHash: string | null, recordedAt: string,
];

const TIMESTAMPTZ = 1184;
const parseTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ) as (text: string) => Date;

/** pg's `types` for a query whose timestamptz columns should stay text (for `isoTimes`). */
export const rawTimestamps = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMPTZ ? (text: string) => text : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** timestamptz text → ISO string, remembering the last one (rows of one transaction repeat it). */
export const isoTimes = (): ((raw: string) => string) => {
  let lastRaw = '', lastIso = '';
  return (raw) => {
    if (raw !== lastRaw) {
      lastRaw = raw;
      lastIso = parseTimestamptz(raw).toISOString();
    }
    return lastIso;
  };
};

export const toRecordedPage = (rows: readonly EventRow[]): RecordedEvent[] => {
  const iso = isoTimes();
  return rows.map((r) => ({
    id: r[4], streamId: r[2], revision: Number(r[3]), position: `${r[1]}:${r[0]}`, type: r[5], data: r[6],
    metadata: r[7], recordedAt: iso(r[10]), hash: r[8], previousHash: r[9],
  }));
};
