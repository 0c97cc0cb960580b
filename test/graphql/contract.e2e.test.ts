import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  buildClientSchema, buildSchema, DangerousChangeType, findBreakingChanges, findDangerousChanges, getIntrospectionQuery,
  type GraphQLSchema, type IntrospectionQuery,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/db.ts';
import { startTestServer } from '../support/server.ts';

/**
 * The served schema, as a client discovers it (introspection over HTTP), contains the whole public
 * contract in `shared/contract/schema.graphql`: nothing removed, renamed, retyped or made stricter.
 */
const contractUrl = new URL('../../../shared/contract/schema.graphql', import.meta.url);
const contractPath = fileURLToPath(contractUrl);
const haveContract = existsSync(contractPath);
if (!haveContract) console.warn(`[contract.e2e] skipped: the contract ${contractPath} does not exist (shared/contract is not next to the repository)`);

/**
 * A complete introspection query, like graphql-js's, with type references three wrappers deep
 * (enough for `[X!]!`, the deepest the contract uses): within the API's query-depth limit.
 */
const SHALLOW_INTROSPECTION = `
query ShallowIntrospection {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) { name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`;

const introspect = async (url: string, query: string) => {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  return { status: res.status, body: (await res.json()) as { data: IntrospectionQuery | null; errors?: { message: string }[] } };
};

describe('the served schema honours the public contract', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let served: GraphQLSchema;
  let contract: GraphQLSchema;

  beforeAll(async () => {
    if (!haveContract) return;
    contract = buildSchema(readFileSync(contractUrl, 'utf8'));
    db = await createTestDatabase('e2e_contract');
    server = await startTestServer(db);
    // the standard query when the server answers it; else the shallow one (the depth limit is tested below)
    let r = await introspect(server.url, getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true }));
    if (!r.body.data) r = await introspect(server.url, SHALLOW_INTROSPECTION);
    expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    served = buildClientSchema(r.body.data!);
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  it.skipIf(!haveContract)('findBreakingChanges(contract, served) is empty', () => {
    const breaking = findBreakingChanges(contract, served);
    expect(breaking.map((c) => `${c.type}: ${c.description}`)).toEqual([]);
  });

  it.skipIf(!haveContract)('no argument default of the contract changed', () => {
    const changed = findDangerousChanges(contract, served).filter((c) => c.type === DangerousChangeType.ARG_DEFAULT_VALUE_CHANGE);
    expect(changed.map((c) => c.description)).toEqual([]);
  });

  it.skipIf(!haveContract)('every root operation of the contract is served', () => {
    for (const root of ['Query', 'Mutation', 'Subscription'] as const) {
      const want = Object.keys((contract.getType(root) as unknown as { getFields(): Record<string, unknown> }).getFields());
      const have = Object.keys((served.getType(root) as unknown as { getFields(): Record<string, unknown> } | undefined)?.getFields() ?? {});
      expect(have, root).toEqual(expect.arrayContaining(want));
    }
  });

  it.skipIf(!haveContract)('the standard introspection query (what GraphiQL and code generators send) is answered', async () => {
    const r = await introspect(server.url, getIntrospectionQuery());
    expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    expect(r.status).toBe(200);
    expect(findBreakingChanges(contract, buildClientSchema(r.body.data!))).toEqual([]);
  });
});
