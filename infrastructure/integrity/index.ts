import type pg from 'pg';
import type { EventStore } from '../../application/eventStore.ts';
import { createCheckpointer, verifyIntegrity, type Checkpointer, type IntegrityLog, type IntegrityReport, type VerifyProgress } from '../../application/integrity.ts';
import type { Clock } from '../../application/ports.ts';
import { getPostgresCheckpointHeads } from './headsTable.ts';
import { getPostgresIntegrityLog } from './postgresLog.ts';
import { sm2Check, sm2Signer } from './sm2.ts';

/** The integrity services of one process: the signer (its key never leaves this object), the checkpointer, verification. */
export interface Integrity {
  readonly publicKey: string;
  readonly checkpointer: Checkpointer;
  readonly log: IntegrityLog;
  verify(options?: { streamId?: string | undefined; publicKey?: string; checkpoints?: readonly unknown[]; onProgress?: (p: VerifyProgress) => void }): Promise<IntegrityReport>;
}

export const createIntegrity = (deps: {
  readonly pool: pg.Pool;
  readonly store: EventStore;
  readonly signingKey: string;
  readonly clock: Clock;
  /** every this many checkpoints, a full one (default 1,000) */
  readonly fullEvery?: number;
}): Integrity => {
  const signer = sm2Signer(deps.signingKey);
  const log = getPostgresIntegrityLog({ pool: deps.pool, store: deps.store });
  const checkpointer = createCheckpointer({ store: deps.store, log, heads: getPostgresCheckpointHeads({ pool: deps.pool }), signer, check: sm2Check, clock: deps.clock, ...(deps.fullEvery ? { fullEvery: deps.fullEvery } : {}) });
  return {
    publicKey: signer.publicKey,
    checkpointer,
    log,
    verify: (o = {}) => verifyIntegrity({
      store: deps.store, log, publicKey: o.publicKey ?? signer.publicKey, check: sm2Check,
      streamId: o.streamId, checkpoints: o.checkpoints, onProgress: o.onProgress,
    }),
  };
};
