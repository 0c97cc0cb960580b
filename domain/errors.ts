/**
 * The error catalogue. Every refusal carries a stable `code` (the contract's `extensions.code`);
 * tests assert codes, never messages. `details` carries machine-readable specifics (the field that
 * failed, the version that was found) for clients and logs.
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'VALIDATION_FAILED'
  | 'INVALID_TRANSITION'
  | 'CONCURRENCY_CONFLICT'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE';

export class GovcaseError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'GovcaseError';
    this.code = code;
    this.details = details;
  }
}

export const invalidTransition = (message: string, details: Record<string, unknown> = {}) =>
  new GovcaseError('INVALID_TRANSITION', message, details);

export const validationFailed = (field: string, message: string, details: Record<string, unknown> = {}) =>
  new GovcaseError('VALIDATION_FAILED', `${field}: ${message}`, { field, ...details });

export const forbidden = (message: string, details: Record<string, unknown> = {}) =>
  new GovcaseError('FORBIDDEN', message, details);

export const notFound = (message: string, details: Record<string, unknown> = {}) =>
  new GovcaseError('NOT_FOUND', message, details);

export const concurrencyConflict = (message: string, details: Record<string, unknown> = {}) =>
  new GovcaseError('CONCURRENCY_CONFLICT', message, details);

export const unavailable = (message: string, details: Record<string, unknown> = {}) =>
  new GovcaseError('UNAVAILABLE', message, details);

/** A date outside the years for which the working-day calendar has official data. */
export const calendarYearMissing = (year: number, available: readonly number[]) =>
  new GovcaseError(
    'VALIDATION_FAILED',
    `no working-day calendar data for ${year} (have: ${available.join(', ')}); add the State Council notice for that year`,
    { field: 'date', reason: 'CALENDAR_YEAR_MISSING', year, available: [...available] },
  );
