/** Dependencies point inward (docs/architecture.md); checked in `npm test` and CI, without exemptions. */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'domain/ imports nothing of ours outside itself',
      severity: 'error',
      from: { path: '^domain/' },
      to: { path: '^(application|infrastructure|projections|graphql|bin|bench|test)/' },
    },
    {
      name: 'domain-no-io-packages',
      comment: 'domain/ may use zod and node builtins only: no database, network or framework packages',
      severity: 'error',
      from: { path: '^domain/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'], pathNot: '^node_modules/zod/' },
    },
    {
      name: 'application-only-domain',
      comment: 'application/ imports only domain/ (and zod, node builtins)',
      severity: 'error',
      from: { path: '^application/' },
      to: { path: '^(infrastructure|projections|graphql|bin|bench|test)/' },
    },
    {
      name: 'application-no-io-packages',
      severity: 'error',
      from: { path: '^application/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'], pathNot: '^node_modules/zod/' },
    },
    {
      name: 'no-production-to-test',
      severity: 'error',
      from: { path: '^(domain|application|infrastructure|projections|graphql|bin)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
