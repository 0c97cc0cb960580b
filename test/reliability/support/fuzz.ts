import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildSchema, getNamedType, isEnumType, isInputObjectType, isInterfaceType, isListType, isNonNullType, isObjectType,
  isScalarType, isUnionType, type GraphQLArgument, type GraphQLField, type GraphQLInputType, type GraphQLNamedType,
  type GraphQLObjectType, type GraphQLSchema,
} from 'graphql';

/**
 * GraphQL requests drawn from the served schema (graphql/schema.graphql), mostly wrong on purpose:
 * random operations and selections, arguments at and beyond their bounds, wrong types, huge, unicode
 * and unstorable strings (NUL, lone surrogates), deep nesting, alias floods, malformed documents,
 * bodies and tokens. Seeded: the same seed gives the same requests, so a failure can be replayed.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const servedSchema = (): GraphQLSchema => buildSchema(readFileSync(path.join(ROOT, 'graphql/schema.graphql'), 'utf8'));

/** mulberry32: small, fast, seedable */
export const rng = (seed: number) => {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
};
export type Rng = ReturnType<typeof rng>;

const STRINGS = [
  '', ' ', 'a', '张三', '贵阳市南明区', '🙂🚀👩‍👩‍👧‍👦', 'ا\u200fلعربية', 'e\u0301\u0301\u0301', '\u0000', 'nul\u0000inside', '\ud800', 'lone\udfffsurrogate',
  "'; drop table events; --", '{"$where":1}', '<script>alert(1)</script>', '../../etc/passwd', '%00', '\\', '"', '\n\r\t',
  '520102199001011234', '13900000000', '2026-02-30', '2026-13-01', '9999-12-31', '0000-01-01', '2026-10-01T09:00:00+08:00', 'not-a-date',
  '00000000-0000-0000-0000-000000000000', 'case-00000000-0000-0000-0000-000000000000', '1:1', '99999999999999999999:1', '-1:-1', 'esdb:1/1',
  'NaN', 'Infinity', '-0', '1e309', 'null', 'undefined', 'true',
];
const INTS = [0, 1, -1, 2, 5, 10, 20, 60, 100, 365, 1000, 1001, 10_000, 2_147_483_647, -2_147_483_648, 2_147_483_648, -2_147_483_649, 9_007_199_254_740_993, 1.5, -0.5, 1e308];

export interface FuzzContext {
  /** ids and codes that exist (cases, items), so some requests reach deep into the resolvers */
  readonly ids: string[];
  readonly itemCodes: string[];
  /** valid tokens of every role, plus broken ones, chosen at random */
  readonly tokens: (string | undefined)[];
}

const bigString = (r: Rng) => {
  const unit = r.pick(['a', '字', '🙂', '\u0301', 'x\u0000']);
  return unit.repeat(r.pick([1_000, 10_000, 100_000, 300_000]));
};

/** a UUID-shaped string from the seeded generator (crypto.randomUUID would break replays) */
const seededUuid = (r: Rng) => {
  const hex = Array.from({ length: 32 }, () => r.int(16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20)}`;
};

const stringValue = (r: Rng, ctx: FuzzContext): string => {
  if (r.chance(0.05)) return bigString(r);
  if (r.chance(0.25) && ctx.ids.length > 0) return r.pick(ctx.ids);
  if (r.chance(0.1) && ctx.itemCodes.length > 0) return r.pick(ctx.itemCodes);
  if (r.chance(0.1)) return seededUuid(r);
  return r.pick(STRINGS);
};

/** A JS value for an input type: usually close to right, sometimes wrong in type, null-ness or size. */
const valueFor = (r: Rng, ctx: FuzzContext, type: GraphQLInputType, depth = 0): unknown => {
  if (r.chance(0.04)) return r.pick<unknown>([null, 42, 'x', true, [], {}, -1, 1e40, [[[]]]]); // wrong on purpose
  if (isNonNullType(type)) return valueFor(r, ctx, type.ofType, depth);
  if (r.chance(0.05)) return null;
  if (isListType(type)) {
    const n = r.chance(0.05) ? r.pick([500, 5_000]) : r.int(4);
    return Array.from({ length: n }, () => valueFor(r, ctx, type.ofType, depth + 1));
  }
  const named = type as GraphQLNamedType;
  if (isEnumType(named)) return r.chance(0.9) ? r.pick(named.getValues()).name : r.pick(['', 'approved', 'NOPE', 'PASS ', '__typename']);
  if (isInputObjectType(named)) {
    if (depth > 6) return {};
    const out: Record<string, unknown> = {};
    for (const f of Object.values(named.getFields())) if (isNonNullType(f.type) ? r.chance(0.95) : r.chance(0.5)) out[f.name] = valueFor(r, ctx, f.type, depth + 1);
    if (r.chance(0.05)) out[`extra${r.int(10)}`] = 'unexpected';
    return out;
  }
  if (isScalarType(named)) {
    switch (named.name) {
      case 'Int': return r.pick(INTS);
      case 'Float': return r.pick([0, -1, 1.5, 1e308, -1e308, 5e-324]);
      case 'Boolean': return r.chance(0.9) ? r.chance(0.5) : 'true';
      case 'JSON': return r.pick<unknown>([{}, { a: 1 }, [1, 2], 'x', 1, null, { deep: JSON.parse('['.repeat(200) + ']'.repeat(200)) }, { k: '\u0000' }, { ['\ud800']: 1 }]);
      case 'Date': return r.pick(['2026-10-01', '2026-02-29', '2025-12-31', '1900-01-01', '2100-01-01', '2026-1-1', '', '2026-10-01T00:00:00Z']);
      case 'DateTime': return r.pick(['2026-10-01T09:00:00+08:00', '2026-10-01T09:00:00Z', '2026-10-01', 'yesterday', '', '9999-12-31T23:59:59Z', '1970-01-01T00:00:00Z']);
      default: return stringValue(r, ctx);
    }
  }
  return null;
};

/** The same value as a GraphQL literal (for arguments written inline). */
const literal = (v: unknown, type: GraphQLInputType): string => {
  if (v === null || v === undefined) return 'null';
  const named = getNamedType(type);
  if (Array.isArray(v)) return `[${v.map((x) => literal(x, isListType(type) ? type.ofType : isNonNullType(type) && isListType(type.ofType) ? type.ofType.ofType : type)).join(', ')}]`;
  if (typeof v === 'object') {
    const fields = isInputObjectType(named) ? named.getFields() : {};
    return `{ ${Object.entries(v).map(([k, x]) => `${/^[_A-Za-z][_0-9A-Za-z]*$/.test(k) ? k : 'bad'}: ${literal(x, (fields[k]?.type ?? type) as GraphQLInputType)}`).join(', ')} }`;
  }
  if (typeof v === 'string') return isEnumType(named) && /^[_A-Za-z][_0-9A-Za-z]*$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '0';
  return String(v);
};

const selection = (r: Rng, type: GraphQLNamedType, depth: number, maxDepth: number): string => {
  if (!(isObjectType(type) || isInterfaceType(type) || isUnionType(type))) return '';
  if (isUnionType(type)) return '{ __typename }';
  const fields = Object.values((type as GraphQLObjectType).getFields());
  const n = 1 + r.int(Math.min(6, fields.length));
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = r.pick(fields);
    const named = getNamedType(f.type);
    const args = f.args.length > 0 && r.chance(0.5) ? `(${f.args.map((a) => `${a.name}: ${literal(valueFor(r, { ids: [], itemCodes: [], tokens: [] }, a.type), a.type)}`).join(', ')})` : '';
    const alias = r.chance(0.1) ? `a${i}: ` : '';
    if (isObjectType(named) || isInterfaceType(named) || isUnionType(named)) {
      if (depth >= maxDepth) continue;
      parts.push(`${alias}${f.name}${args} ${selection(r, named, depth + 1, maxDepth)}`);
    } else parts.push(`${alias}${f.name}${args}`);
  }
  if (parts.length === 0) parts.push('__typename');
  return `{ ${parts.join(' ')} }`;
};

/** encodeURIComponent, with lone surrogates sent as the invalid UTF-8 they would be */
const encode = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return s.split('').map((ch) => { try { return encodeURIComponent(ch); } catch { return '%ED%A0%80'; } }).join('');
  }
};

export interface FuzzRequest {
  readonly kind: string;
  readonly method: 'POST' | 'GET';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

const operation = (r: Rng, schema: GraphQLSchema, ctx: FuzzContext): { query: string; variables: Record<string, unknown> | string } => {
  const root = r.chance(0.5) ? schema.getQueryType()! : r.chance(0.9) ? schema.getMutationType()! : schema.getSubscriptionType()!;
  const field: GraphQLField<unknown, unknown> = r.pick(Object.values(root.getFields()));
  const keyword = root === schema.getQueryType() ? 'query' : root === schema.getMutationType() ? 'mutation' : 'subscription';
  const useVariables = r.chance(0.6);
  const variables: Record<string, unknown> = {};
  const defs: string[] = [];
  const args = field.args.filter((a: GraphQLArgument) => isNonNullType(a.type) || r.chance(0.5)).map((a: GraphQLArgument) => {
    const v = valueFor(r, ctx, a.type);
    if (useVariables) {
      variables[a.name] = v;
      defs.push(`$${a.name}: ${r.chance(0.95) ? String(a.type) : 'String'}`);
      return `${a.name}: $${a.name}`;
    }
    return `${a.name}: ${literal(v, a.type)}`;
  });
  const maxDepth = r.chance(0.1) ? 12 + r.int(10) : 1 + r.int(4);
  const sel = selection(r, getNamedType(field.type), 0, maxDepth);
  const argsText = args.join(', ');
  const count = r.chance(0.03) && argsText.length + sel.length < 5_000 ? 50 + r.int(500) : 1; // alias floods (of small fields)
  const body = Array.from({ length: count }, (_, i) => `${count > 1 ? `f${i}: ` : ''}${field.name}${args.length ? `(${argsText})` : ''} ${sel}`).join(' ');
  const query = `${keyword}${defs.length ? `(${defs.join(', ')})` : ''} { ${body} }`;
  return { query, variables: r.chance(0.03) ? 'not an object' : variables };
};

const garbage = (r: Rng): string => {
  switch (r.int(10)) {
    case 0: return '{'.repeat(r.pick([10, 1_000, 50_000]));
    case 1: return `query { ${'case(id: "x") { history { '.repeat(r.pick([20, 200]))} }`;
    case 2: return `{ ${'__typename '.repeat(r.pick([100, 10_000]))}}`;
    case 3: return `fragment A on Query { ...B } fragment B on Query { ...A } { ...A }`;
    case 4: return `query { __schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }`;
    case 5: return String.fromCharCode(...Array.from({ length: 200 }, () => r.int(0xffff)));
    case 6: return `query($a: Int = "x") { addWorkingDays(from: "2026-10-01", days: $a) }`;
    case 7: return `{ me { id } } { me { id } }`;
    case 8: return `subscription { caseEvents { streamId } }`;
    default: return `query Q @skip(if: true) { me @include(if: $nope) { id } }`;
  }
};

const authHeader = (r: Rng, ctx: FuzzContext): Record<string, string> => {
  const t = r.pick(ctx.tokens);
  if (t === undefined) return {};
  if (r.chance(0.05)) return { authorization: r.pick(['Bearer', 'Bearer ', 'Basic Zm9vOmJhcg==', `Bearer ${t}x`, `bearer ${t}`, `Bearer ${'a'.repeat(20_000)}`, 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwicm9sZXMiOlsiYWRtaW4iXX0.', `Bearer ${t}, Bearer ${t}`]) };
  return { authorization: `Bearer ${t}` };
};

/** One request: mostly schema-shaped operations, some malformed at the GraphQL or HTTP level. */
export const fuzzRequest = (r: Rng, schema: GraphQLSchema, ctx: FuzzContext): FuzzRequest => {
  const auth = authHeader(r, ctx);
  const json = { 'content-type': 'application/json', ...auth };
  const roll = r.next();
  if (roll < 0.75) {
    const { query, variables } = operation(r, schema, ctx);
    if (r.chance(0.05) && query.startsWith('query')) {
      return { kind: 'operation-get', method: 'GET', path: `/graphql?query=${encode(query)}&variables=${encode(JSON.stringify(variables))}`, headers: auth };
    }
    return { kind: 'operation', method: 'POST', path: '/graphql', headers: json, body: JSON.stringify({ query, variables }) };
  }
  if (roll < 0.9) return { kind: 'garbage-document', method: 'POST', path: '/graphql', headers: json, body: JSON.stringify({ query: garbage(r) }) };
  switch (r.int(9)) {
    case 0: return { kind: 'malformed-json', method: 'POST', path: '/graphql', headers: json, body: '{"query": "{ me { id } }"' };
    case 1: return { kind: 'wrong-content-type', method: 'POST', path: '/graphql', headers: { ...auth, 'content-type': r.pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=latin1']) }, body: '{ me { id } }' };
    case 2: return { kind: 'batched', method: 'POST', path: '/graphql', headers: json, body: JSON.stringify(Array.from({ length: r.pick([2, 100]) }, () => ({ query: '{ me { id } }' }))) };
    case 3: return { kind: 'empty-body', method: 'POST', path: '/graphql', headers: json, body: '' };
    case 4: return { kind: 'too-large', method: 'POST', path: '/graphql', headers: json, body: JSON.stringify({ query: `{ me { id } }`, variables: { x: 'x'.repeat(1_100_000) } }) };
    case 5: return { kind: 'query-not-string', method: 'POST', path: '/graphql', headers: json, body: JSON.stringify({ query: r.pick<unknown>([1, null, {}, ['{ me { id } }'], true]) }) };
    case 6: return { kind: 'deep-json', method: 'POST', path: '/graphql', headers: json, body: `{"query":"{ me { id } }","variables":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}` };
    case 7: return { kind: 'get-garbage', method: 'GET', path: `/graphql?query=${encode(garbage(r))}&variables=${r.pick(['%7B', 'x', '[]', '%00'])}`, headers: auth };
    default: return { kind: 'unknown-route', method: r.pick(['POST', 'GET']), path: r.pick(['/graphql/', '/GRAPHQL', '/graphql/../readyz', '/%2e%2e/', '/graphiql?x=%ff', `/${'a'.repeat(5_000)}`]), headers: json, ...(r.chance(0.5) ? { body: '{}' } : {}) } as FuzzRequest;
  }
};

export interface FuzzResult {
  readonly requests: number;
  readonly byStatus: Record<string, number>;
  readonly fiveXx: { kind: string; status: number; sample: string; answer: string }[];
  readonly networkErrors: { kind: string; error: string; sample: string }[];
  /** requests whose connection failed before an answer and were sent once more (then answered) */
  readonly resent: string[];
}

/** Sends `count` generated requests, `concurrency` at a time. */
export const runFuzz = async (options: { url: () => string; seed: number; count: number; concurrency: number; ctx: FuzzContext }): Promise<FuzzResult> => {
  const schema = servedSchema();
  const r = rng(options.seed);
  const byStatus: Record<string, number> = {};
  const fiveXx: FuzzResult['fiveXx'] = [];
  const networkErrors: FuzzResult['networkErrors'] = [];
  const resent: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < options.count) {
      next++;
      const req = fuzzRequest(r, schema, options.ctx);
      const send = async () => {
        const res = await fetch(`${options.url()}${req.path}`, {
          method: req.method, headers: req.headers, ...(req.body !== undefined && req.method === 'POST' ? { body: req.body } : {}),
          signal: AbortSignal.timeout(30_000),
        });
        return { res, text: await res.text() };
      };
      try {
        // a small request whose keep-alive socket the server had just closed (after an oversized
        // request on it) fails without reaching the server: it is sent again, counted apart. Each
        // failure drops that socket from the client's pool, but the pool may hold one closed socket
        // per concurrent worker (several oversized requests in a row), so up to that many resends
        let answer: Awaited<ReturnType<typeof send>> | undefined;
        for (let attempt = 0; answer === undefined; attempt++) {
          try {
            answer = await send();
          } catch (failed) {
            if ((req.body?.length ?? 0) > 1_048_576 || Buffer.byteLength(req.path) > 16_000 || attempt >= options.concurrency) throw failed;
            resent.push(`${req.kind}: ${`${(failed as Error).message} ${String((failed as { cause?: unknown }).cause ?? '')}`.slice(0, 120)}`);
          }
        }
        const { res, text } = answer;
        byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
        if (res.status >= 500) fiveXx.push({ kind: req.kind, status: res.status, sample: (req.body ?? req.path).slice(0, 600), answer: text.slice(0, 400) });
      } catch (err) {
        byStatus.network = (byStatus.network ?? 0) + 1;
        // a body past the 1 MB limit is answered 413, a URL past Node's 16 KB header limit 431, and the
        // connection closed while the request is still being sent: the client sees EPIPE/ECONNRESET,
        // which is the limit working, not a crash
        const kind = (req.body?.length ?? 0) > 1_048_576 || Buffer.byteLength(req.path) > 16_000 ? 'too-large' : req.kind;
        networkErrors.push({ kind, error: `${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? '')}`.slice(0, 200), sample: (req.body ?? req.path).slice(0, 300) });
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
  return { requests: options.count, byStatus, fiveXx, networkErrors, resent };
};
