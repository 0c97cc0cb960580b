import { createSecretKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClock } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';
import { JWT_SECRET, gql, startTestServer, token } from '../support/server.ts';

/**
 * Hostile and broken requests over HTTP: each gets a coded refusal (VALIDATION_FAILED or
 * UNAUTHENTICATED), never a 5xx, never a stack trace, and the server keeps answering.
 */
const DEPT = 'BI-DEPT';
const REGION = '520102';

interface Raw {
  status: number;
  text: string;
  json: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } | null;
}

/** Signs of a leaked stack or internals in a response body. */
const LEAKS = [/\n\s+at /, /\bat [\w.<>]+ \(/, /\.ts:\d+/, /\.js:\d+/, /node_modules/, /\/work\//, /Error: .*\n/, /"stack"/];

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('bad input over HTTP', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  const clock = testClock('2026-05-11T10:00:00+08:00');
  const itemCode = `BAD-${randomUUID().slice(0, 8)}`;
  const t = {} as Record<'admin' | 'applicant' | 'clerk', string>;

  const post = async (body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Raw> => {
    const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers, body });
    const text = await res.text();
    let json: Raw['json'] = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: res.status, text, json };
  };
  const postGql = (query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    post(JSON.stringify({ query, variables }), { 'content-type': 'application/json', ...headers });
  const bearer = (tok: string) => ({ authorization: `Bearer ${tok}` });

  /** The common verdict: a coded refusal, no 5xx, no stack, the data null. */
  const refused = (r: Raw, code: 'VALIDATION_FAILED' | 'UNAUTHENTICATED', what: string) => {
    expect(r.status, `${what}: ${r.text.slice(0, 500)}`).toBeLessThan(500);
    expect(r.json, `${what}: a JSON body: ${r.text.slice(0, 300)}`).not.toBeNull();
    const got = (r.json!.errors ?? []).map((e) => e.extensions?.code);
    expect(got.length, `${what}: ${r.text.slice(0, 500)}`).toBeGreaterThan(0);
    expect(new Set(got), `${what}: ${r.text.slice(0, 500)}`).toEqual(new Set([code]));
    for (const leak of LEAKS) expect(r.text, `${what}: leaks ${leak}`).not.toMatch(leak);
    expect(r.text).not.toContain('INTERNAL');
  };

  const submitted = async () => {
    const r = await gql(server.url, `mutation($input: SubmitCaseInput!) { submitCase(input: $input) { caseId } }`, {
      input: {
        itemCode, channel: 'PC', applicant: { name: '孙七', idType: '111', idNumber: '520102198001011234' },
        materials: [{ name: '申请书', provided: true }],
      },
    }, t.applicant);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data!.submitCase.caseId as string;
  };

  beforeAll(async () => {
    db = await createTestDatabase('e2e_bad');
    server = await startTestServer(db, { clock });
    t.admin = await token({ sub: 'bi-admin', roles: ['admin'] });
    t.applicant = await token({ sub: 'bi-citizen', roles: ['applicant'] });
    t.clerk = await token({ sub: 'bi-clerk', roles: ['clerk'], dept: DEPT, region: REGION });
    const r = await gql(server.url, `mutation($input: ServiceItemInput!) { publishServiceItem(input: $input) { itemCode } }`, {
      input: {
        itemCode, name: '测试事项', itemType: '01', departmentCode: DEPT, departmentName: '测试局', regionCode: REGION,
        caseType: 'PROMISED', legalLimitDays: 20, promisedLimitDays: 10, materials: [{ name: '申请书', provided: true }],
      },
    }, t.admin);
    expect(r.errors).toBeUndefined();
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  describe('malformed requests → VALIDATION_FAILED', () => {
    const MALFORMED: [string, string][] = [
      ['truncated JSON', '{"query": '], ['unquoted keys', '{query: "{ me { id } }"}'], ['null', 'null'], ['an array of nothing', '[]'],
      ['a bare string', '"just a string"'], ['an empty body', ''], ['a number as the query', '{"query": 42}'],
      ['a JSON number in the query string', '{"query": "42"}'], ['JSON null in the query string', '{"query": "null"}'],
      ['a JSON object in the query string', '{"query": "{}"}'], ['a JSON array in the query string', '{"query": "[]"}'],
      ['variables as a string', '{"query": "{ me { id } }", "variables": "x"}'], ['no query at all', '{"variables": {}}'],
    ];
    for (const [name, body] of MALFORMED)
      it(`malformed body: ${name}`, async () => {
        refused(await post(body, { 'content-type': 'application/json', ...bearer(t.clerk) }), 'VALIDATION_FAILED', `body ${JSON.stringify(body)}`);
      });

    it('a wrong content type', async () => {
      for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])
        refused(await post(JSON.stringify({ query: '{ me { id } }' }), { 'content-type': type, ...bearer(t.clerk) }), 'VALIDATION_FAILED', type);
    });

    it('a GraphQL syntax error, an unknown field, a mutation over GET', async () => {
      refused(await postGql('{ me { id ', {}, bearer(t.clerk)), 'VALIDATION_FAILED', 'syntax');
      refused(await postGql('{ me { password } }', {}, bearer(t.clerk)), 'VALIDATION_FAILED', 'unknown field');
      refused(await postGql('{ nope }', {}, bearer(t.clerk)), 'VALIDATION_FAILED', 'unknown root field');
      const res = await fetch(`${server.url}/graphql?query=${encodeURIComponent('mutation { createIntegrityCheckpoint { id } }')}`, { headers: bearer(t.admin) });
      const text = await res.text();
      refused({ status: res.status, text, json: JSON.parse(text) }, 'VALIDATION_FAILED', 'mutation over GET');
    });

    it('wrong variable types', async () => {
      const q = `query($id: ID!, $first: Int) { case(id: $id) { id } cases(first: $first) { totalCount } }`;
      for (const variables of [{ id: { a: 1 } }, { id: ['x'] }, { id: 'x', first: 'twenty' }, { id: 'x', first: 1.5 }, { id: 'x', first: 2 ** 40 }, { id: null }, {}])
        refused(await postGql(q, variables, bearer(t.clerk)), 'VALIDATION_FAILED', JSON.stringify(variables));
      // an input object with a field of the wrong type
      refused(await postGql(`mutation($i: CaseCommandInput!) { acceptCase(input: $i) { caseId } }`, { i: { caseId: randomUUID(), expectedVersion: 'one' } }, bearer(t.clerk)), 'VALIDATION_FAILED', 'expectedVersion as a string');
      // a caseId that is no UUID, and out-of-range numbers the resolvers check
      refused(await postGql(`mutation($i: CaseCommandInput!) { acceptCase(input: $i) { caseId } }`, { i: { caseId: 'not-a-uuid' } }, bearer(t.clerk)), 'VALIDATION_FAILED', 'caseId not a UUID');
      refused(await postGql(`{ cases(first: 100000) { totalCount } }`, {}, bearer(t.clerk)), 'VALIDATION_FAILED', 'first too large');
      refused(await postGql(`{ cases(first: -1) { totalCount } }`, {}, bearer(t.clerk)), 'VALIDATION_FAILED', 'first negative');
      refused(await postGql(`{ cases(after: "garbage!") { totalCount } }`, {}, bearer(t.clerk)), 'VALIDATION_FAILED', 'bad cursor');
      refused(await postGql(`{ addWorkingDays(from: "2026-02-30", days: 1) }`, {}, bearer(t.clerk)), 'VALIDATION_FAILED', 'impossible date');
      refused(await postGql(`{ caseAt(id: "${randomUUID()}", at: "yesterday") { id } }`, {}, bearer(t.clerk)), 'VALIDATION_FAILED', 'bad DateTime');
      refused(await postGql(`query($f: CaseFilter) { cases(filter: $f) { totalCount } }`, { f: { submittedFrom: '2026-13-45T99:00:00Z' } }, bearer(t.clerk)), 'VALIDATION_FAILED', 'bad DateTime in a filter');
    });

    it('unknown enum values, inline and in variables', async () => {
      const id = randomUUID();
      refused(await postGql(`mutation { decideCase(input: { caseId: "${id}", outcome: MAYBE }) { caseId } }`, {}, bearer(t.clerk)), 'VALIDATION_FAILED', 'inline enum');
      refused(await postGql(`mutation($i: DecideCaseInput!) { decideCase(input: $i) { caseId } }`, { i: { caseId: id, outcome: 'MAYBE' } }, bearer(t.clerk)), 'VALIDATION_FAILED', 'enum variable');
      refused(await postGql(`query($f: CaseFilter) { cases(filter: $f) { totalCount } }`, { f: { status: ['LOST'] } }, bearer(t.clerk)), 'VALIDATION_FAILED', 'enum in a list');
      refused(await postGql(`query($f: CaseFilter) { cases(filter: $f) { totalCount } }`, { f: { alertLevel: 'approved' } }, bearer(t.clerk)), 'VALIDATION_FAILED', 'lower-case enum');
    });

    it('missing required input fields', async () => {
      refused(await postGql(`mutation($i: SubmitCaseInput!) { submitCase(input: $i) { caseId } }`, { i: { itemCode, channel: 'PC', materials: [] } }, bearer(t.applicant)), 'VALIDATION_FAILED', 'no applicant');
      refused(await postGql(`mutation($i: SubmitCaseInput!) { submitCase(input: $i) { caseId } }`, { i: { itemCode, channel: 'PC', materials: [], applicant: { name: '甲' } } }, bearer(t.applicant)), 'VALIDATION_FAILED', 'applicant without idNumber');
      refused(await postGql(`mutation { rejectCase(input: { caseId: "${randomUUID()}" }) { caseId } }`, {}, bearer(t.clerk)), 'VALIDATION_FAILED', 'no reason');
      refused(await postGql(`mutation { acceptCase { caseId } }`, {}, bearer(t.clerk)), 'VALIDATION_FAILED', 'no input');
      refused(await postGql(`mutation($i: CaseCommandInput!) { acceptCase(input: $i) { caseId } }`, {}, bearer(t.clerk)), 'VALIDATION_FAILED', 'no variable');
      // present but empty or blank
      const caseId = await submitted();
      refused(await postGql(`mutation($i: ReasonedCommandInput!) { rejectCase(input: $i) { caseId } }`, { i: { caseId, reason: '   ' } }, bearer(t.clerk)), 'VALIDATION_FAILED', 'blank reason');
      refused(await postGql(`mutation($i: RequestCorrectionInput!) { requestCorrection(input: $i) { caseId } }`, { i: { caseId, missingMaterials: [], reason: '补' } }, bearer(t.clerk)), 'VALIDATION_FAILED', 'no missing materials');
    });
  });

  describe('huge and strange strings', () => {
    it('a body over 1 MB is refused before parsing', async () => {
      const huge = JSON.stringify({ query: `mutation($i: ReasonedCommandInput!) { rejectCase(input: $i) { caseId } }`, variables: { i: { caseId: randomUUID(), reason: 'x'.repeat(1_100_000) } } });
      const r = await post(huge, { 'content-type': 'application/json', ...bearer(t.clerk) });
      expect(r.status, r.text.slice(0, 300)).toBeGreaterThanOrEqual(400);
      refused(r, 'VALIDATION_FAILED', '1 MB body');
    });

    it('a 100 kB reason is VALIDATION_FAILED and appends nothing', async () => {
      const caseId = await submitted();
      refused(await postGql(`mutation($i: ReasonedCommandInput!) { rejectCase(input: $i) { caseId } }`, { i: { caseId, reason: '驳'.repeat(100_000) } }, bearer(t.clerk)), 'VALIDATION_FAILED', '100 kB reason');
      refused(await postGql(`mutation($i: SubmitCaseInput!) { submitCase(input: $i) { caseId } }`, {
        i: { itemCode, channel: 'PC', applicant: { name: 'x'.repeat(100_000), idType: '111', idNumber: '520102198001011234' }, materials: [] },
      }, bearer(t.applicant)), 'VALIDATION_FAILED', '100 kB name');
      const h = await gql(server.url, `query($id: ID!) { case(id: $id, atLeastVersion: 0) { status history { type } } }`, { id: caseId }, t.clerk);
      expect(h.data!.case).toEqual({ status: 'SUBMITTED', history: [{ type: 'CaseSubmitted' }] });
    });

    it('unicode (CJK, emoji, RTL, combining marks, 4-byte characters) is stored and read back exactly', async () => {
      const caseId = await submitted();
      const reason = '不予受理：材料不全 🙅‍♀️ مرحبا e\u0301 𠀀𪚥 \u200d ＜script＞';
      const r = await gql(server.url, `mutation($i: ReasonedCommandInput!) { rejectCase(input: $i) { case { status } events { data metadata } } }`, { i: { caseId, reason } }, t.clerk);
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      expect(r.data!.rejectCase.events[0].data.reason).toBe(reason);
      // the read model catches up asynchronously: wait for the rejection (version 1) to be in it
      const h = await gql(server.url, `query($id: ID!) { case(id: $id, atLeastVersion: 1) { history { type data } } }`, { id: caseId }, t.clerk);
      expect(h.data!.case.history.at(-1)).toEqual({ type: 'CaseRejected', data: { reason } });
    });

    const unchanged = async (caseId: string) => {
      const h = await gql(server.url, `query($id: ID!) { case(id: $id, atLeastVersion: 0) { status history { type } } }`, { id: caseId }, t.clerk);
      expect(h.data!.case).toEqual({ status: 'SUBMITTED', history: [{ type: 'CaseSubmitted' }] });
    };
    const REJECT = `mutation($i: ReasonedCommandInput!) { rejectCase(input: $i) { caseId } }`;
    const SUBMIT = `mutation($i: SubmitCaseInput!) { submitCase(input: $i) { caseId } }`;

    it('a NUL character in a reason is VALIDATION_FAILED and appends nothing', async () => {
      const caseId = await submitted();
      refused(await postGql(REJECT, { i: { caseId, reason: 'abc\u0000def' } }, bearer(t.clerk)), 'VALIDATION_FAILED', 'NUL in a reason');
      await unchanged(caseId);
    });

    it('a NUL character inline in the query text is VALIDATION_FAILED', async () => {
      const caseId = await submitted();
      refused(await postGql(`mutation { rejectCase(input: { caseId: "${caseId}", reason: "abc\\u0000def" }) { caseId } }`, {}, bearer(t.clerk)), 'VALIDATION_FAILED', 'NUL in a literal');
      await unchanged(caseId);
    });

    it('a NUL character in an applicant name or in formData is VALIDATION_FAILED', async () => {
      refused(await postGql(SUBMIT, {
        i: { itemCode, channel: 'PC', applicant: { name: '孙\u0000七', idType: '111', idNumber: '520102198001011234' }, materials: [] },
      }, bearer(t.applicant)), 'VALIDATION_FAILED', 'NUL in a name');
      refused(await postGql(SUBMIT, {
        i: { itemCode, channel: 'PC', applicant: { name: '孙七', idType: '111', idNumber: '520102198001011234' }, materials: [], formData: { k: 'v\u0000' } },
      }, bearer(t.applicant)), 'VALIDATION_FAILED', 'NUL in formData');
    });

    it('a lone surrogate in a reason is VALIDATION_FAILED (or stored as given), never INTERNAL', async () => {
      const caseId = await submitted();
      const r = await postGql(REJECT, { i: { caseId, reason: 'bad \ud800 surrogate' } }, bearer(t.clerk));
      if (r.json?.errors) refused(r, 'VALIDATION_FAILED', 'lone surrogate in a reason');
      else expect(r.status).toBe(200);
    });

    for (const [name, s] of [['a NUL character', 'item\u0000'], ['a lone surrogate', 'x\ud800y']] as const)
      it(`${name} in query arguments: an empty answer or VALIDATION_FAILED, never INTERNAL`, async () => {
        const queries: [string, Record<string, unknown>, string][] = [
          [`query($c: String!) { serviceItem(itemCode: $c) { itemCode } }`, { c: s }, t.clerk],
          [`query($c: String!) { serviceItems(departmentCode: $c) { itemCode } }`, { c: s }, t.clerk],
          [`query($f: CaseFilter) { cases(filter: $f) { totalCount } }`, { f: { caseNumber: s } }, t.clerk],
          [`query($f: CaseFilter) { cases(filter: $f) { totalCount } }`, { f: { itemCode: s } }, t.clerk],
          [`query($c: ID!) { case(id: $c) { id } }`, { c: s }, t.clerk],
          [`query($c: String!) { stream(streamId: $c) { type } }`, { c: s }, t.admin],
          [`query($c: String!) { events(types: [$c]) { hasMore } }`, { c: s }, t.admin],
          [`query($f: CaseFilter) { cases(filter: $f) { totalCount } }`, { f: { applicantIdNumber: s } }, t.admin],
        ];
        const failures: string[] = [];
        for (const [query, variables, who] of queries) {
          const r = await postGql(query, variables, bearer(who));
          const got = (r.json?.errors ?? []).map((e) => e.extensions?.code);
          if (r.status >= 500 || got.some((c) => c !== 'VALIDATION_FAILED')) failures.push(`${query} → ${r.status} ${r.text.slice(0, 160)}`);
        }
        expect(failures).toEqual([]);
      });
  });

  describe('expensive queries → VALIDATION_FAILED', () => {
    it('a query deeper than 10', async () => {
      let inner = 'name';
      for (let i = 0; i < 12; i++) inner = `ofType { ${inner} }`;
      refused(await postGql(`{ __type(name: "Case") { fields { type { ${inner} } } } }`, {}, bearer(t.clerk)), 'VALIDATION_FAILED', 'deep introspection');
      let deepFragment = 'name';
      for (let i = 0; i < 12; i++) deepFragment = `... on __Type { ofType { ${deepFragment} } }`;
      refused(await postGql(`{ __schema { types { ${deepFragment} } } }`, {}, bearer(t.clerk)), 'VALIDATION_FAILED', 'deep through inline fragments');
    });

    it('a query selecting too many fields (500 aliases)', async () => {
      const aliases = Array.from({ length: 500 }, (_, i) => `a${i}: me { id }`).join(' ');
      refused(await postGql(`{ ${aliases} }`, {}, bearer(t.clerk)), 'VALIDATION_FAILED', '500 aliases');
      const typenames = Array.from({ length: 500 }, (_, i) => `t${i}: __typename`).join(' ');
      refused(await postGql(`{ ${typenames} }`, {}, bearer(t.clerk)), 'VALIDATION_FAILED', '500 __typename aliases');
      // through a fragment used many times
      const spreads = Array.from({ length: 100 }, (_, i) => `c${i}: cases { ...F }`).join(' ');
      refused(await postGql(`query { ${spreads} } fragment F on CaseConnection { totalCount edges { cursor node { id status } } }`, {}, bearer(t.clerk)), 'VALIDATION_FAILED', 'fragment × 100');
    });

    it('batched queries are refused', async () => {
      const r = await post(JSON.stringify([{ query: '{ me { id } }' }, { query: '{ me { id } }' }]), { 'content-type': 'application/json', ...bearer(t.clerk) });
      refused(r, 'VALIDATION_FAILED', 'batch');
    });
  });

  describe('bad credentials → UNAUTHENTICATED', () => {
    const claims = { name: '坏人', roles: ['admin'], dept: DEPT, region: REGION };
    const sign = (secret: string, payload: Record<string, unknown>, exp: number | string = '1h') =>
      new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject('bi-mallory').setIssuedAt().setExpirationTime(exp)
        .sign(createSecretKey(Buffer.from(secret, 'utf8')));
    const ME = '{ me { id roles } }';
    const SUBMIT = `mutation($i: SubmitCaseInput!) { submitCase(input: $i) { caseId } }`;

    const tokensToRefuse = async (): Promise<[string, string][]> => [
      ['expired', await sign(JWT_SECRET, claims, Math.floor(Date.now() / 1000) - 3_600)],
      ['signed with another secret', await sign('another-secret-another-secret-0123456789', claims)],
      ['alg none', `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'bi-mallory', ...claims, exp: Math.floor(Date.now() / 1000) + 3_600 })}.`],
      ['alg none with a signature', `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'bi-mallory', ...claims })}.${b64url('sig')}`],
      ['HS512 with the right secret', await new SignJWT(claims).setProtectedHeader({ alg: 'HS512' }).setSubject('bi-mallory').setExpirationTime('1h').sign(createSecretKey(Buffer.from(JWT_SECRET, 'utf8')))],
      ['an unknown role', await sign(JWT_SECRET, { ...claims, roles: ['superuser'] })],
      ['the system role', await sign(JWT_SECRET, { ...claims, roles: ['system'] })],
      ['no roles', await sign(JWT_SECRET, { ...claims, roles: [] })],
      ['no subject', await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(createSecretKey(Buffer.from(JWT_SECRET, 'utf8')))],
      ['a bad region claim', await sign(JWT_SECRET, { ...claims, region: 'guiyang' })],
      ['not yet valid', await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('bi-mallory').setNotBefore(Math.floor(Date.now() / 1000) + 3_600).setExpirationTime('2h').sign(createSecretKey(Buffer.from(JWT_SECRET, 'utf8')))],
      ['a tampered payload', await (async () => {
        const good = await token({ sub: 'bi-citizen', roles: ['applicant'] });
        const [h, , s] = good.split('.');
        return `${h}.${b64url({ sub: 'bi-citizen', roles: ['admin'], exp: Math.floor(Date.now() / 1000) + 3_600 })}.${s}`;
      })()],
      ['garbage', 'definitely.not.a-jwt'],
      ['huge', 'a'.repeat(10_000)],
    ];

    it('bad tokens, on a query and on a mutation', async () => {
      for (const [name, tok] of await tokensToRefuse()) {
        refused(await postGql(ME, {}, bearer(tok)), 'UNAUTHENTICATED', `${name} (query)`);
        refused(await postGql(SUBMIT, {
          i: { itemCode, channel: 'PC', applicant: { name: '甲', idType: '111', idNumber: '520102198001011234' }, materials: [] },
        }, bearer(tok)), 'UNAUTHENTICATED', `${name} (mutation)`);
      }
    });

    it('garbage Authorization headers, and none at all', async () => {
      for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Bearer a b', 'bearer', 'Token abc', '{}', 'Bearer \u00e9\u00e9'])
        refused(await postGql(ME, {}, { authorization: header }), 'UNAUTHENTICATED', `header ${JSON.stringify(header)}`);
      refused(await postGql(ME), 'UNAUTHENTICATED', 'no header');
      refused(await postGql(`{ cases { totalCount } }`), 'UNAUTHENTICATED', 'no header, a list');
    });
  });


  it('after all of that the server still answers /healthz and a valid query', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const me = await gql(server.url, `{ me { id roles departmentCode regionCode } }`, {}, t.clerk);
    expect(me.errors).toBeUndefined();
    expect(me.data!.me).toEqual({ id: 'bi-clerk', roles: ['CLERK'], departmentCode: DEPT, regionCode: REGION });
    const caseId = await submitted();
    const read = await gql(server.url, `query($id: ID!) { case(id: $id, atLeastVersion: 0) { id status } }`, { id: caseId }, t.clerk);
    expect(read.data!.case).toEqual({ id: caseId, status: 'SUBMITTED' });
  });
});
