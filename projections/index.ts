import { createCasesProjection } from './cases/casesProjection.ts';
import type { Projection } from './projection.ts';
import { createServiceItemsProjection } from './serviceItems/serviceItemsProjection.ts';
import { createStatisticsProjection } from './statistics/statisticsProjection.ts';
import { createSupervisionProjection } from './supervision/supervisionProjection.ts';

/** Every projection govcase runs, in one list: the runner, `rebuild` and the status query use it. */
export const createProjections = (options: { readonly blindIndex: (idNumber: string) => string }): Projection[] => [
  createCasesProjection(options),
  createStatisticsProjection(),
  createSupervisionProjection(),
  createServiceItemsProjection(),
];
