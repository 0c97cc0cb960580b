/**
 * Group commit: appends that arrive while earlier batches are in flight are gathered and written
 * together, in one statement and one transaction, each keeping its own checks and its own answer.
 * A quiet system pays nothing: with a free slot, an append goes out on the next turn of the loop.
 *
 * Two appends to the same stream (or with the same command id) never share a batch or overlap in
 * flight: the later one waits for the next batch, so its version check sees the earlier result.
 */
export interface BatchItem<I, O> {
  readonly streamId: string;
  readonly commandId: string | undefined;
  readonly size: number;
  readonly input: I;
  readonly resolve: (value: O) => void;
  readonly reject: (err: unknown) => void;
}

export interface GroupCommitOptions<I, O> {
  /** Writes one batch; returns one outcome per item, in order (a value or an Error for that item). */
  readonly write: (items: readonly BatchItem<I, O>[]) => Promise<(O | Error)[]>;
  readonly maxInFlight?: number;
  readonly maxBatchItems?: number;
  readonly maxBatchEvents?: number;
  /** A waiting crowd is spread over the free slots only in batches of at least this many (default 4). */
  readonly minSplit?: number;
}

export interface GroupCommitter<I, O> {
  submit(streamId: string, commandId: string | undefined, size: number, input: I): Promise<O>;
  /** Resolves once everything submitted so far has been answered. */
  drain(): Promise<void>;
  readonly stats: { batches: number; items: number };
}

export const createGroupCommitter = <I, O>(options: GroupCommitOptions<I, O>): GroupCommitter<I, O> => {
  const maxInFlight = options.maxInFlight ?? 2;
  const maxItems = options.maxBatchItems ?? 256;
  const maxEvents = options.maxBatchEvents ?? 4_000;
  const minSplit = options.minSplit ?? 4;
  let queue: BatchItem<I, O>[] = [];
  const busyStreams = new Set<string>();
  const busyCommands = new Set<string>();
  let inFlight = 0;
  let scheduled = false;
  const drainWaiters: (() => void)[] = [];
  const stats = { batches: 0, items: 0 };

  const schedule = () => {
    if (scheduled || inFlight >= maxInFlight || queue.length === 0) return;
    scheduled = true;
    // setImmediate: every append issued in this turn of the event loop joins the batch
    setImmediate(flush);
  };

  const flush = () => {
    scheduled = false;
    while (inFlight < maxInFlight && queue.length > 0) {
      // with free slots and a crowd waiting, spread it over the free slots (batches of at least
      // `minSplit`): transactions overlap (one executes while another flushes its commit) instead of
      // one batch taking everyone and the callers then coming back together
      const free = maxInFlight - inFlight;
      const cap = free > 1 && queue.length >= 2 * minSplit ? Math.max(minSplit, Math.ceil(queue.length / free)) : maxItems;
      const batch: BatchItem<I, O>[] = [];
      const rest: BatchItem<I, O>[] = [];
      let events = 0;
      for (const item of queue) {
        const blocked =
          busyStreams.has(item.streamId) ||
          (item.commandId !== undefined && busyCommands.has(item.commandId)) ||
          batch.length >= Math.min(cap, maxItems) ||
          (batch.length > 0 && events + item.size > maxEvents);
        if (blocked) {
          rest.push(item);
          continue;
        }
        batch.push(item);
        events += item.size;
        busyStreams.add(item.streamId);
        if (item.commandId !== undefined) busyCommands.add(item.commandId);
      }
      queue = rest;
      if (batch.length === 0) break;
      inFlight++;
      void run(batch);
    }
    notifyDrained();
  };

  const run = async (batch: BatchItem<I, O>[]) => {
    stats.batches++;
    stats.items += batch.length;
    try {
      const outcomes = await options.write(batch);
      batch.forEach((item, i) => {
        const o = outcomes[i];
        if (o instanceof Error) item.reject(o);
        else item.resolve(o as O);
      });
    } catch (err) {
      for (const item of batch) item.reject(err);
    } finally {
      for (const item of batch) {
        busyStreams.delete(item.streamId);
        if (item.commandId !== undefined) busyCommands.delete(item.commandId);
      }
      inFlight--;
      schedule();
      notifyDrained();
    }
  };

  const notifyDrained = () => {
    if (inFlight === 0 && queue.length === 0) drainWaiters.splice(0).forEach((w) => w());
  };

  return {
    submit(streamId, commandId, size, input) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ streamId, commandId, size, input, resolve, reject });
        schedule();
      });
    },
    drain() {
      if (inFlight === 0 && queue.length === 0) return Promise.resolve();
      return new Promise((r) => drainWaiters.push(r));
    },
    stats,
  };
};
