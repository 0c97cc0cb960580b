import type { z } from 'zod';
import { validationFailed } from '../domain/errors.ts';

/** zod at the edge: the first issue becomes VALIDATION_FAILED naming its field; all issues are in details. */
export const parseInput = <S extends z.ZodType>(schema: S, input: unknown, prefix = ''): z.infer<S> => {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ field: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || prefix || 'input', message: i.message }));
  const first = issues[0]!;
  throw validationFailed(first.field, first.message, { issues });
};
