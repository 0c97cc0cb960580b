import { Kind, visit, BREAK, type DocumentNode } from 'graphql';
import { validationFailed, type GovcaseError } from '../domain/errors.ts';

/**
 * Text PostgreSQL cannot store, refused at the edge: a NUL character (`text` and `jsonb` reject it)
 * and a lone UTF-16 surrogate (not Unicode: it cannot be encoded as UTF-8). Both are valid in JSON
 * and in GraphQL strings, so neither the body parser nor GraphQL refuses them.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What is wrong with a string, or null when it can be stored. */
export const badText = (s: string): string | null =>
  s.includes('\u0000') ? 'contains a NUL character' : LONE_SURROGATE.test(s) ? 'contains a lone surrogate (not valid Unicode)' : null;

/** The first string (value or object key) in the variables that cannot be stored, as a refusal. Iterative: any depth. */
export const badTextInVariables = (variables: unknown): GovcaseError | null => {
  const stack: [unknown, string][] = [[variables, 'variables']];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      const problem = badText(value);
      if (problem) return validationFailed(path, problem);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => stack.push([v, `${path}[${i}]`]));
    } else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        const problem = badText(k);
        if (problem) return validationFailed(path, `a key ${problem}`);
        stack.push([v, `${path}.${k}`]);
      }
    }
  }
  return null;
};

/** mercurius reuses a parsed document for every request with the same query text: checked once. */
const checkedDocuments = new WeakMap<DocumentNode, GovcaseError | null>();

/** The first string literal of the document that cannot be stored, as a refusal. */
export const badTextInDocument = (document: DocumentNode): GovcaseError | null => {
  const known = checkedDocuments.get(document);
  if (known !== undefined) return known;
  let found: GovcaseError | null = null;
  visit(document, {
    [Kind.STRING]: (node: { value: string }) => {
      const problem = badText(node.value);
      if (!problem) return undefined;
      found = validationFailed('query', `a string literal ${problem}`);
      return BREAK;
    },
  });
  checkedDocuments.set(document, found);
  return found;
};
