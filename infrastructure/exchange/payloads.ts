import { toCaseEvent } from '../../application/caseStream.ts';
import type { EventStore, RecordedEvent } from '../../application/eventStore.ts';
import type { PersonalDataVault } from '../../application/personalData.ts';
import type { Applicant, ApplicantRecord, CaseSubmitted } from '../../domain/case/events.ts';
import { caseStreamId } from '../../domain/case/events.ts';
import { mapCaseEvent, type DataSet, type HistoryEvent } from '../../domain/exchange/mapping.ts';
import type { Target } from '../../domain/exchange/targets.ts';
import { errorText, type Delivery, type OutboxRow } from './types.ts';

/**
 * Builds the payloads of a batch of outbox rows at dispatch time: each case's stream is read once,
 * folded by the mapping, and the applicant opened (through the vault) only when the record carries
 * personal data. A subject erased meanwhile (`null`) yields records without personal data.
 */
export type OpenApplicant = (record: unknown) => Promise<Applicant | null>;

/** Through the personal-data vault (the national platform is a lawful recipient): null when erased. */
export const openWithVault = (vault: Pick<PersonalDataVault, 'open'>): OpenApplicant => async (record) =>
  (await vault.open(record as ApplicantRecord))?.applicant ?? null;

/** Without a vault: plaintext applicants pass (pure tests, old data); a sealed one cannot be opened. */
export const plainOnly: OpenApplicant = async (record) => {
  if (record && typeof record === 'object' && 'sealed' in record) throw new Error('a sealed applicant needs the personal-data vault');
  return record as Applicant;
};

const needsApplicant = (target: Target, dataSet: DataSet) =>
  target === 'haochaping' || dataSet === 'APPLICATION' || dataSet === 'EVALUATION';

export interface BuiltBatch {
  readonly deliveries: Delivery[];
  /** rows whose payload could not be built (stream unreadable, vault failure): they fail this attempt */
  readonly failed: { id: string; error: string }[];
  /** ids of rows delivered without personal data because the subject was erased */
  readonly erased: Set<string>;
}

export const buildPayloads = async (
  store: EventStore,
  openApplicant: OpenApplicant,
  rows: readonly OutboxRow[],
  concurrency = 8,
): Promise<BuiltBatch> => {
  const deliveries: Delivery[] = [];
  const failed: { id: string; error: string }[] = [];
  const erased = new Set<string>();
  // each case's stream read once, several at a time; the applicant opened once per case, when needed
  const applicants = new Map<string, Promise<Applicant | null>>();
  const ids = [...new Set(rows.map((r) => r.caseId))];
  let next = 0;
  const loaded = new Map<string, { history: HistoryEvent[]; submitted?: RecordedEvent } | Error>();
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      try {
        const events = await store.readStream(caseStreamId(id));
        loaded.set(id, {
          history: events.map((e) => ({ revision: e.revision, event: toCaseEvent(e), occurredAt: e.metadata.occurredAt, actorId: e.metadata.actorId })),
          submitted: events.find((e) => e.type === 'CaseSubmitted'),
        });
      } catch (err) {
        loaded.set(id, err as Error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  for (const row of rows) {
    const c = loaded.get(row.caseId);
    if (!c || c instanceof Error) continue;
    if (needsApplicant(row.target, row.dataSet) && c.submitted && !applicants.has(row.caseId)) {
      const p = openApplicant((c.submitted.data as CaseSubmitted['data']).applicant);
      p.catch(() => {});
      applicants.set(row.caseId, p);
    }
  }
  for (const row of rows) {
    try {
      const c = loaded.get(row.caseId);
      if (c instanceof Error) throw c;
      if (!c) throw new Error('stream not read');
      let applicant: Applicant | null = null;
      const opening = needsApplicant(row.target, row.dataSet) ? applicants.get(row.caseId) : undefined;
      if (opening) {
        applicant = await opening;
        if (applicant === null) erased.add(row.id);
      }
      const { context, records } = mapCaseEvent(c.history, row.revision, applicant);
      deliveries.push({ row, context, records: records.filter((r) => r.dataSet === row.dataSet) });
    } catch (err) {
      failed.push({ id: row.id, error: `payload: ${errorText(err)}` });
    }
  }
  return { deliveries, failed, erased };
};
