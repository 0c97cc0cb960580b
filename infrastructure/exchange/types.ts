import type { CaseContext, DataSet, ExchangeRecord } from '../../domain/exchange/mapping.ts';
import type { Target } from '../../domain/exchange/targets.ts';

/** One outbox row as the dispatcher reads it. */
export interface OutboxRow {
  readonly id: string;
  readonly idempotencyKey: string;
  readonly target: Target;
  readonly caseId: string;
  readonly revision: number;
  readonly eventType: string;
  readonly dataSet: DataSet;
  readonly attempts: number;
}

/** A row with its payload built (at dispatch time, from the case's events and the opened applicant). */
export interface Delivery {
  readonly row: OutboxRow;
  readonly records: readonly ExchangeRecord[];
  readonly context: CaseContext | null;
}

export type DeliveryOutcome =
  | { readonly id: string; readonly status: 'delivered'; readonly duplicate: boolean }
  | { readonly id: string; readonly status: 'failed'; readonly error: string }
  /** not tried: an earlier row of the same case failed in this batch (order within a case is kept) */
  | { readonly id: string; readonly status: 'skipped' };

export interface TargetAdapter {
  readonly target: Target;
  /** Delivers in order within each case; every delivery gets exactly one outcome. Never throws. */
  deliver(batch: readonly Delivery[]): Promise<DeliveryOutcome[]>;
  close(): Promise<void>;
}

/** Groups deliveries by case, keeping their order (the batch is in outbox id order). */
export const byCase = <T extends { row: { caseId: string } }>(batch: readonly T[]): T[][] => {
  const groups = new Map<string, T[]>();
  for (const d of batch) {
    const g = groups.get(d.row.caseId);
    if (g) g.push(d);
    else groups.set(d.row.caseId, [d]);
  }
  return [...groups.values()];
};

export const errorText = (err: unknown): string => {
  const e = err as { code?: string; message?: string };
  return `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`.slice(0, 1_000);
};
