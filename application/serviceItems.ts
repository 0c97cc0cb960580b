import {
  decideServiceItem, evolveServiceItem, initialServiceItemState, serviceItemStreamId, ServiceItemRulesSchema,
  type ServiceItemEvent, type ServiceItemRules, type ServiceItemState,
} from '../domain/serviceItem/serviceItem.ts';
import { forbidden, GovcaseError } from '../domain/errors.ts';
import { authorizeItemPublication } from '../domain/permissions.ts';
import type { EventStore, RecordedEvent } from './eventStore.ts';
import type { CommandContext } from './cases.ts';
import type { Clock } from './ports.ts';
import { parseInput } from './validate.ts';

export const foldServiceItem = (events: readonly RecordedEvent[]): ServiceItemState =>
  events.reduce((s, e) => evolveServiceItem(s, { type: e.type, data: e.data } as ServiceItemEvent), initialServiceItemState());

export const loadServiceItem = async (store: EventStore, itemCode: string): Promise<ServiceItemRules | null> => {
  const state = foldServiceItem(await store.readStream(serviceItemStreamId(itemCode)));
  return state.status === 'PUBLISHED' ? state.item : null;
};

/**
 * Where a submission finds its item's rules. `createServiceItemCache` answers from memory for
 * `ttlMs` after a read: every submission would otherwise read the item's stream again. A revision made
 * in this process is seen at once (`forget`); one made by another process within `ttlMs`, as if the
 * submission had arrived that much earlier.
 */
export interface ServiceItemSource {
  load(itemCode: string): Promise<ServiceItemRules | null>;
  forget(itemCode: string): void;
}

export const createServiceItemCache = (store: EventStore, options: { readonly ttlMs?: number; readonly maxItems?: number; readonly now?: () => number } = {}): ServiceItemSource => {
  const ttlMs = options.ttlMs ?? 1_000;
  const maxItems = options.maxItems ?? 10_000;
  const now = options.now ?? (() => performance.now());
  // a read in flight is shared, so a burst of submissions for one item reads it once
  const entries = new Map<string, { readonly at: number; readonly item: Promise<ServiceItemRules | null> }>();
  return {
    load(itemCode) {
      const hit = entries.get(itemCode);
      if (hit && now() - hit.at < ttlMs) return hit.item;
      if (entries.size >= maxItems) entries.clear();
      const item = loadServiceItem(store, itemCode);
      const entry = { at: now(), item };
      entries.set(itemCode, entry);
      // a failed read is not remembered
      item.catch(() => { if (entries.get(itemCode) === entry) entries.delete(itemCode); });
      return item;
    },
    forget(itemCode) {
      entries.delete(itemCode);
    },
  };
};

export interface PublishResult {
  readonly item: ServiceItemRules;
  readonly version: number;
  readonly events: readonly RecordedEvent[];
}

/** Publishes or revises a service item (admins). Publishing the same rules again appends nothing. */
export const publishServiceItem = async (
  deps: { readonly store: EventStore; readonly clock: Clock; readonly items?: ServiceItemSource | undefined },
  input: unknown,
  ctx: CommandContext,
): Promise<PublishResult> => {
  const verdict = authorizeItemPublication(ctx.principal);
  if (!verdict.allowed) throw forbidden(verdict.reason);
  const item = parseInput(ServiceItemRulesSchema, input);
  const streamId = serviceItemStreamId(item.itemCode);
  for (let attempt = 0; ; attempt++) {
    const events = await deps.store.readStream(streamId);
    const state = foldServiceItem(events);
    const last = events.at(-1);
    const version = last?.revision ?? -1;
    const decided = decideServiceItem({ type: 'PublishServiceItem', data: { item } }, state);
    if (decided.length === 0) return { item, version, events: [] };
    try {
      const result = await deps.store.appendToStream(
        streamId,
        decided.map((e) => ({
          type: e.type,
          data: e.data,
          metadata: {
            actorId: ctx.principal.id, actorRole: 'admin', departmentCode: ctx.principal.departmentCode, commandId: ctx.commandId,
            correlationId: ctx.correlationId ?? ctx.commandId, causationId: ctx.causationId, clientApp: ctx.clientApp, sourceAddress: ctx.sourceAddress, occurredAt: deps.clock.now().toISOString(),
          },
        })),
        { expectedVersion: version === -1 ? 'no_stream' : version, head: last ? { version, hash: last.hash } : null, ...(ctx.commandId ? { commandId: ctx.commandId } : {}) },
      );
      deps.items?.forget(item.itemCode);
      return { item, version: result.version, events: result.events };
    } catch (err) {
      deps.items?.forget(item.itemCode);
      if (!(err instanceof GovcaseError && err.code === 'CONCURRENCY_CONFLICT' && attempt < 3)) throw err;
    }
  }
};
