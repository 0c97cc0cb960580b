import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { isLocalDate } from '../domain/time.ts';

/** DateTime (ISO-8601 with an offset), Date (YYYY-MM-DD) and JSON, validated on the way in. */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

const invalid = (message: string) => new GraphQLError(message, { extensions: { code: 'VALIDATION_FAILED' } });

const parseDateTime = (value: unknown): string => {
  if (typeof value !== 'string' || !ISO_WITH_OFFSET.test(value) || Number.isNaN(Date.parse(value)) || !isLocalDate(value.slice(0, 10)))
    throw invalid('DateTime must be ISO-8601 with an offset, e.g. 2026-10-08T09:30:00+08:00');
  return new Date(value).toISOString();
};

const parseDate = (value: unknown): string => {
  if (typeof value !== 'string' || !isLocalDate(value)) throw invalid('Date must be a real date written YYYY-MM-DD');
  return value;
};

export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  serialize: (v) => (v instanceof Date ? v.toISOString() : String(v)),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});

export const DateScalar = new GraphQLScalarType({
  name: 'Date',
  serialize: (v) => String(v),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

const literal = (ast: ValueNode, variables?: Record<string, unknown> | null): unknown => {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map((v) => literal(v, variables));
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literal(f.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[ast.name.value];
    default:
      throw invalid('unsupported JSON literal');
  }
};

export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: literal,
});
