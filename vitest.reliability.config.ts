import { defineConfig } from 'vitest/config';

/**
 * The full reliability suite (`npm run test:reliability`): crash cycles, outages, overload, fuzzing
 * at full size. Minutes long, one file at a time (they start servers and cut connections), and not
 * part of `npm test`, which runs the short versions (`test/reliability/*.int.test.ts`).
 */
export default defineConfig({
  test: {
    name: 'reliability',
    // the full versions, plus the tests that have only one size (shutdown, forced overload, the decider)
    include: [
      'test/reliability/**/*.reliability.test.ts',
      'test/reliability/shutdown.int.test.ts',
      'test/reliability/overload.int.test.ts',
      'test/reliability/decider.property.unit.test.ts',
    ],
    env: { DECIDER_RUNS: '30000' },
    globalSetup: ['./test/support/globalSetup.ts'],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});
