import { createCasesProjection } from './cases/casesProjection.ts';
import { createExchangeOutboxProjection } from './exchange/outboxProjection.ts';
import type { Target } from '../domain/exchange/targets.ts';
import type { Projection } from './projection.ts';
import { createServiceItemsProjection } from './serviceItems/serviceItemsProjection.ts';
import { createStatisticsProjection } from './statistics/statisticsProjection.ts';
import { createSupervisionProjection } from './supervision/supervisionProjection.ts';

/** Every projection govcase runs, in one list: the runner, `rebuild` and the status query use it. */
export const createProjections = (options: {
  readonly blindIndex: (idNumber: string) => string;
  /** national exchange targets configured (EXCHANGE_DB_URL, HAOCHAPING_URL): the outbox runs only with one */
  readonly exchangeTargets?: readonly Target[];
}): Projection[] => [
  createCasesProjection(options),
  createStatisticsProjection(),
  createSupervisionProjection(),
  createServiceItemsProjection(),
  ...(options.exchangeTargets?.length ? [createExchangeOutboxProjection({ targets: options.exchangeTargets })] : []),
];
