import { GraphQLError, Kind, type ASTVisitor, type DocumentNode, type FragmentDefinitionNode, type SelectionNode, type ValidationContext } from 'graphql';

/**
 * Cost limits, as validation rules: how many fields a query selects, and how deep it nests. Both
 * read the document only (no schema), so they also serve the subscription path, which mercurius
 * does not validate.
 */

const refusal = (message: string, nodes?: readonly import('graphql').ASTNode[]) =>
  new GraphQLError(message, { ...(nodes ? { nodes } : {}), extensions: { code: 'VALIDATION_FAILED' } });

/**
 * A GraphQL document as the parser makes it. mercurius falls back to `JSON.parse` for a query that
 * does not parse, so `"42"`, `"null"`, `"{}"` or `"[]"` reach validation as something else.
 */
export const isDocument = (document: unknown): document is DocumentNode =>
  typeof document === 'object' && document !== null && !Array.isArray(document)
  && (document as { kind?: unknown }).kind === Kind.DOCUMENT && Array.isArray((document as { definitions?: unknown }).definitions);

/**
 * A document the GraphQL parser made from the query text. mercurius's fallback turns a query string
 * holding JSON into an object, which may look like a document but be malformed anywhere inside (and
 * crash validation); the parser's `loc` is a class instance, which `JSON.parse` can never produce.
 */
export const isParsedDocument = (document: unknown): document is DocumentNode => {
  if (!isDocument(document)) return false;
  const loc: unknown = document.loc;
  if (typeof loc !== 'object' || loc === null) return false;
  const proto: unknown = Object.getPrototypeOf(loc);
  return proto !== Object.prototype && proto !== null;
};

const fragmentsOf = (document: DocumentNode) =>
  new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d?.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d] as const));

/** The fields an operation selects (aliases and fragments counted where they are used), counting stopped past `max`. */
const fieldCount = (selections: readonly SelectionNode[], fragments: ReadonlyMap<string, FragmentDefinitionNode>, max: number): number => {
  const count = (selections: readonly SelectionNode[], seen: ReadonlySet<string>): number => {
    let n = 0;
    for (const s of selections) {
      if (n > max) return n;
      if (s.kind === Kind.FIELD) n += 1 + (s.selectionSet ? count(s.selectionSet.selections, seen) : 0);
      else if (s.kind === Kind.INLINE_FRAGMENT) n += count(s.selectionSet.selections, seen);
      else if (s.kind === Kind.FRAGMENT_SPREAD) {
        const f = fragments.get(s.name.value);
        if (!f || seen.has(s.name.value)) continue;
        n += count(f.selectionSet.selections, new Set([...seen, s.name.value]));
      }
    }
    return n;
  };
  return count(selections, new Set());
};

const tooManyFields = (maxFields: number) => `the query selects more than ${maxFields} fields; ask for less or page`;

/** Why the operations of `document` select too much (empty when they do not). */
export const fieldViolations = (document: DocumentNode, maxFields: number): string[] => {
  const fragments = fragmentsOf(document);
  return document.definitions.some((d) => d?.kind === Kind.OPERATION_DEFINITION && fieldCount(d.selectionSet.selections, fragments, maxFields) > maxFields)
    ? [tooManyFields(maxFields)]
    : [];
};

/**
 * A query may select at most `maxFields` fields in all (aliases and fragments counted where they
 * are used), so one request cannot ask for the whole database.
 */
export const maxFieldsRule = (maxFields: number) => (context: ValidationContext): ASTVisitor => {
  const document: unknown = context.getDocument();
  if (!isDocument(document)) {
    context.reportError(refusal('the query is not a GraphQL document'));
    return {};
  }
  const fragments = fragmentsOf(document);
  return {
    OperationDefinition(node) {
      if (fieldCount(node.selectionSet.selections, fragments, maxFields) > maxFields) context.reportError(refusal(tooManyFields(maxFields), [node]));
    },
  };
};

export interface DepthLimits {
  /** nested fields (a top-level field is depth 1); fragments add no level of their own */
  readonly maxDepth: number;
  /**
   * Introspection (`__schema`, `__type`): its `ofType` links do not count as depth — each names one
   * type, the chain is as long as the schema's wrappers (`[X!]!` is 3) — but at most this many in a
   * row: graphql-js's `getIntrospectionQuery()` asks for 9 (its `typeDepth` default).
   */
  readonly maxOfTypeChain: number;
}

const MAX_SELECTIONS_WALKED = 100_000;
const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);

/** Why the operations of `document` are too deep (empty when they are not). */
export const depthViolations = (document: DocumentNode, limits: DepthLimits): string[] => {
  const fragments = fragmentsOf(document);
  const problems = new Set<string>();
  // fragments are walked where they are used: a budget keeps a document that expands hugely from costing as much
  let budget = MAX_SELECTIONS_WALKED;
  const walk = (selections: readonly SelectionNode[], depth: number, introspection: boolean, chain: number, seen: ReadonlySet<string>) => {
    for (const s of selections) {
      if (problems.size > 0) return;
      if (--budget < 0) {
        problems.add('the query expands to too many selections');
        return;
      }
      if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet.selections, depth, introspection, chain, seen);
      else if (s.kind === Kind.FRAGMENT_SPREAD) {
        const f = fragments.get(s.name.value);
        // an unknown or cyclic fragment is refused by the specified rules
        if (f && !seen.has(s.name.value)) walk(f.selectionSet.selections, depth, introspection, chain, new Set([...seen, s.name.value]));
      } else if (s.kind === Kind.FIELD) {
        const inIntrospection = introspection || INTROSPECTION_ROOTS.has(s.name.value);
        const isLink = introspection && s.name.value === 'ofType';
        const nextChain = isLink ? chain + 1 : 0;
        const nextDepth = isLink ? depth : depth + 1;
        if (nextChain > limits.maxOfTypeChain) problems.add(`the query nests more than ${limits.maxOfTypeChain} \`ofType\` in a row`);
        else if (nextDepth > limits.maxDepth) problems.add(`the query is deeper than ${limits.maxDepth} levels`);
        else if (s.selectionSet) walk(s.selectionSet.selections, nextDepth, inIntrospection, nextChain, seen);
      }
    }
  };
  for (const d of document.definitions)
    if (d?.kind === Kind.OPERATION_DEFINITION) walk(d.selectionSet.selections, 0, false, 0, new Set());
  return [...problems];
};

/**
 * Depth limit (replaces mercurius `queryDepth`, which counts introspection like any query and so
 * refuses the standard introspection query GraphiQL and code generators send).
 */
export const queryDepthRule = (limits: DepthLimits) => (context: ValidationContext): ASTVisitor => {
  const document: unknown = context.getDocument();
  if (!isDocument(document)) {
    context.reportError(refusal('the query is not a GraphQL document'));
    return {};
  }
  return {
    Document: {
      leave() {
        for (const problem of depthViolations(document, limits)) context.reportError(refusal(problem));
      },
    },
  };
};
