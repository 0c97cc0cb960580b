import { createClient, type RedisClientType } from 'redis';

/**
 * The shared Redis connection (rate limits across nodes). Optional: without REDIS_URL, or while
 * Redis is away, callers fall back to in-process state — losing Redis never fails a command.
 */
export interface SharedRedis {
  readonly client: RedisClientType;
  /** true while connected and answering */
  ready(): boolean;
  close(): Promise<void>;
}

export const connectRedis = async (url: string, log: (msg: string) => void = () => {}): Promise<SharedRedis> => {
  const client: RedisClientType = createClient({
    url,
    socket: { connectTimeout: 2_000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 5_000) },
    disableOfflineQueue: true,
  });
  let wasReady = false;
  client.on('error', (err: Error) => {
    if (wasReady) log(`redis: ${err.message}; falling back to in-process until it returns`);
    wasReady = false;
  });
  client.on('ready', () => {
    if (!wasReady) log('redis: connected');
    wasReady = true;
  });
  // connect() keeps retrying until Redis answers: never let that hold up the boot
  const connecting = client.connect().catch(() => undefined);
  const ready = await Promise.race([connecting.then(() => client.isReady), new Promise<boolean>((r) => setTimeout(() => r(false), 2_000).unref())]);
  if (!ready) log('redis: not reachable at start; running in-process until it is');
  return {
    client,
    ready: () => client.isReady,
    close: async () => {
      try {
        await client.close();
      } catch {
        client.destroy();
      }
    },
  };
};
