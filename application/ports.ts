import type { LocalDate } from '../domain/time.ts';

/** Where time comes from: injected so tests (and the deadline clock's tests) control it. */
export interface Clock {
  now(): Date;
}

/** Where new ids come from: injected so tests can make them predictable. */
export interface IdSource {
  uuid(): string;
}

/** Hands out the serial of a 办件编号: unique per region and day, increasing. */
export interface CaseNumberSource {
  next(regionCode: string, date: LocalDate): Promise<number>;
}

export const systemClock: Clock = { now: () => new Date() };
export const randomIds: IdSource = { uuid: () => crypto.randomUUID() };
