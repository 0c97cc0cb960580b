import { z } from 'zod';

/**
 * Stored events are never rewritten; when an event type's shape evolves, an upcaster turns the old
 * shape into the current one as it is read. Each recognises the old shape with a zod schema (so a
 * current event never matches by accident) and maps it. The decider's fold and every projection read
 * events through `upcast`, one place.
 */
export interface Upcaster {
  readonly type: string;
  readonly description: string;
  readonly from: z.ZodType;
  /**
   * A cheap test that rules out current shapes before `from` is tried: events are folded on every
   * command and by every projection, and a zod parse that fails builds its issues and messages.
   */
  readonly mayBeOld?: (data: unknown) => boolean;
  readonly up: (old: never) => unknown;
}

/** v1 `CaseSubmitted` (imports from the old platform) carried GB/T 39046 channel codes and no owner. */
const channelCodes = { '1': 'WINDOW', '2': 'PC', '3': 'MOBILE', '4': 'EXPRESS', '9': 'OTHER' } as const;
const CaseSubmittedV1 = z.looseObject({
  channel: z.union([z.enum(['1', '2', '3', '4', '9']), z.literal([1, 2, 3, 4, 9])]),
});

export const caseUpcasters: readonly Upcaster[] = [
  {
    type: 'CaseSubmitted',
    description: 'v1 → v2: numeric GB/T 39046 channel code → Channel enum; ownerId added (null)',
    from: CaseSubmittedV1,
    // the v2 channel is an enum name (WINDOW, PC, …); v1's is one digit, as a string or a number
    mayBeOld: (data) => {
      const channel = (data as { channel?: unknown } | null)?.channel;
      return typeof channel === 'number' || (typeof channel === 'string' && channel.length === 1);
    },
    up: (old: z.infer<typeof CaseSubmittedV1>) => ({
      ...old,
      channel: channelCodes[String(old.channel) as keyof typeof channelCodes],
      ownerId: (old as { ownerId?: string | null }).ownerId ?? null,
    }),
  },
];

export const createUpcast = (upcasters: readonly Upcaster[]) => {
  const byType = new Map<string, Upcaster[]>();
  for (const u of upcasters) byType.set(u.type, [...(byType.get(u.type) ?? []), u]);
  return (type: string, data: unknown): unknown => {
    let current = data;
    for (const u of byType.get(type) ?? []) {
      if (u.mayBeOld && !u.mayBeOld(current)) continue;
      const parsed = u.from.safeParse(current);
      if (parsed.success) current = u.up(parsed.data as never);
    }
    return current;
  };
};

export const upcastCaseEventData = createUpcast(caseUpcasters);
