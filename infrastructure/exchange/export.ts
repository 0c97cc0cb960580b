import { toCaseEvent } from '../../application/caseStream.ts';
import type { EventStore } from '../../application/eventStore.ts';
import type { Applicant, CaseSubmitted } from '../../domain/case/events.ts';
import { caseEventTypes, caseStreamId, isCaseStream, type CaseEventType } from '../../domain/case/events.ts';
import { dataSetNames, dataSetsOf, mapCaseEvent, type HistoryEvent } from '../../domain/exchange/mapping.ts';
import { localDateOf } from '../../domain/time.ts';
import type { OpenApplicant } from './payloads.ts';

/**
 * `govcase export --format gbt39046`: the GB/T 39046 records of every case event that happened in a
 * period (CST dates, inclusive), one JSON object a line, in the log's order. Personal data is opened
 * through the vault (a lawful channel); an erased subject's records carry none and say so.
 */
export interface Gbt39046ExportOptions {
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly pageSize?: number;
  readonly onProgress?: (p: { events: number; records: number; inPeriod: number }) => void;
}

const mapped = caseEventTypes.filter((t) => dataSetsOf(t).length > 0);
const CACHE = 20_000;

export const exportGbt39046 = async (
  store: EventStore,
  openApplicant: OpenApplicant,
  write: (line: string) => Promise<void>,
  options: Gbt39046ExportOptions = {},
): Promise<{ events: number; records: number; inPeriod: number }> => {
  const counts = { events: 0, records: 0, inPeriod: 0 };
  const histories = new Map<string, { history: HistoryEvent[]; applicant?: Promise<Applicant | null>; submitted?: unknown }>();
  let after: string | null = null;
  for (;;) {
    const page = await store.readAll({ after, limit: options.pageSize ?? 1_000, types: mapped });
    for (const e of page.events) {
      counts.events++;
      if (!isCaseStream(e.streamId)) continue;
      const day = localDateOf(e.metadata.occurredAt);
      if ((options.from && day < options.from) || (options.to && day > options.to)) continue;
      counts.inPeriod++;
      const caseId = e.streamId.slice('case-'.length);
      let c = histories.get(caseId);
      if (!c || !c.history.some((h) => h.revision === e.revision)) {
        if (histories.size >= CACHE) histories.clear();
        const events = await store.readStream(caseStreamId(caseId));
        c = {
          history: events.map((x) => ({ revision: x.revision, event: toCaseEvent(x), occurredAt: x.metadata.occurredAt, actorId: x.metadata.actorId })),
          submitted: (events.find((x) => x.type === 'CaseSubmitted')?.data as CaseSubmitted['data'] | undefined)?.applicant,
        };
        histories.set(caseId, c);
      }
      const sets = dataSetsOf(e.type as CaseEventType);
      const personal = sets.includes('APPLICATION') || sets.includes('EVALUATION');
      let applicant: Applicant | null = null;
      if (personal && c.submitted) {
        c.applicant ??= openApplicant(c.submitted);
        applicant = await c.applicant;
      }
      for (const record of mapCaseEvent(c.history, e.revision, applicant).records) {
        counts.records++;
        await write(`${JSON.stringify({ dataSetName: dataSetNames[record.dataSet], ...record })}\n`);
      }
    }
    options.onProgress?.(counts);
    if (!page.hasMore || page.lastPosition === null) break;
    after = page.lastPosition;
  }
  return counts;
};
