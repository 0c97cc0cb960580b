import { createTestDatabase } from '../support/db.ts';
import { runEventStoreContract } from './eventStore.contract.ts';

runEventStoreContract('PostgreSQL', async () => {
  const db = await createTestDatabase('contract');
  return {
    connect: () => db.newStore(),
    cleanup: () => db.drop(),
    // jsonb refuses the NUL character: the database itself fails that append
    poisonData: { text: 'nul \u0000 here' },
  };
});
