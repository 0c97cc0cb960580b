import type { RecordedEvent } from '../../application/eventStore.ts';
import type { SupervisionNoticeAnswered, SupervisionNoticeIssued } from '../../domain/case/events.ts';
import { isCaseStream } from '../../domain/case/events.ts';
import type { Projection } from '../projection.ts';

/**
 * The `supervision_notices` read model: one row per 督办 notice, its answer once given. Idempotent on a
 * replay of the same page: issuing upserts the notice (an answer already there stays), answering sets
 * the answer fields.
 */
export const SUPERVISION_EVENT_TYPES = ['SupervisionNoticeIssued', 'SupervisionNoticeAnswered'] as const;

interface IssuedRow {
  readonly notice_id: string;
  readonly case_id: string;
  readonly content: string;
  readonly issued_at: string;
  readonly reply_by: string;
}

interface AnsweredRow {
  readonly notice_id: string;
  readonly case_id: string;
  readonly answer: string;
  readonly answered_at: string;
  readonly on_time: boolean;
}

/** The rows a page of events writes, in the order they must be written (pure). */
export const supervisionRows = (events: readonly RecordedEvent[]): { issued: IssuedRow[]; answered: AnsweredRow[] } => {
  const issued = new Map<string, IssuedRow>();
  const answered = new Map<string, AnsweredRow>();
  for (const e of events) {
    if (!isCaseStream(e.streamId)) continue;
    const caseId = e.streamId.slice('case-'.length);
    if (e.type === 'SupervisionNoticeIssued') {
      const d = e.data as SupervisionNoticeIssued['data'];
      issued.set(d.noticeId, { notice_id: d.noticeId, case_id: caseId, content: d.content, issued_at: e.metadata.occurredAt, reply_by: d.replyBy });
    } else if (e.type === 'SupervisionNoticeAnswered') {
      const d = e.data as SupervisionNoticeAnswered['data'];
      answered.set(d.noticeId, { notice_id: d.noticeId, case_id: caseId, answer: d.answer, answered_at: e.metadata.occurredAt, on_time: d.onTime });
    }
  }
  return { issued: [...issued.values()], answered: [...answered.values()] };
};

export const createSupervisionProjection = (): Projection => ({
  name: 'supervision',
  tables: ['supervision_notices'],
  eventTypes: SUPERVISION_EVENT_TYPES,
  async createTables(db, t) {
    const n = t('supervision_notices');
    await db.query(`
      create table if not exists ${n} (
        notice_id   text primary key,
        case_id     uuid not null,
        content     text not null,
        issued_at   timestamptz not null,
        reply_by    date not null,
        answer      text,
        answered_at timestamptz,
        on_time     boolean
      );
      create index if not exists ${n}_case_idx on ${n} (case_id, issued_at);
    `);
  },
  async apply(db, events, t) {
    const n = t('supervision_notices');
    const { issued, answered } = supervisionRows(events);
    if (issued.length > 0)
      await db.query(
        `insert into ${n} (notice_id, case_id, content, issued_at, reply_by)
         select notice_id, case_id, content, issued_at, reply_by
           from jsonb_to_recordset($1::jsonb) as r(notice_id text, case_id uuid, content text, issued_at timestamptz, reply_by date)
         on conflict (notice_id) do update set
           case_id = excluded.case_id, content = excluded.content, issued_at = excluded.issued_at, reply_by = excluded.reply_by`,
        [JSON.stringify(issued)],
      );
    if (answered.length > 0)
      await db.query(
        `update ${n} as s set answer = r.answer, answered_at = r.answered_at, on_time = r.on_time
           from jsonb_to_recordset($1::jsonb) as r(notice_id text, case_id uuid, answer text, answered_at timestamptz, on_time boolean)
          where s.notice_id = r.notice_id and s.case_id = r.case_id`,
        [JSON.stringify(answered)],
      );
  },
});
