import { GraphQLError, Kind, type ASTVisitor, type ValidationContext } from 'graphql';

/**
 * Cost limit: a query may select at most `maxFields` fields in all (aliases and fragments counted
 * where they are used), so one request cannot ask for the whole database. Depth is limited
 * separately (mercurius `queryDepth`).
 */
export const maxFieldsRule = (maxFields: number) => (context: ValidationContext): ASTVisitor => {
  const fragments = new Map(context.getDocument().definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d] as const));
  const count = (selections: readonly import('graphql').SelectionNode[], seen: Set<string>): number => {
    let n = 0;
    for (const s of selections) {
      if (n > maxFields) return n;
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
  return {
    OperationDefinition(node) {
      const n = count(node.selectionSet.selections, new Set());
      if (n > maxFields)
        context.reportError(new GraphQLError(`the query selects more than ${maxFields} fields; ask for less or page`, { nodes: [node], extensions: { code: 'VALIDATION_FAILED' } }));
    },
  };
};
