import { createClient } from 'redis';
const c = createClient({ url: 'redis://127.0.0.1:6379', disableOfflineQueue: true }); await c.connect();
const LUA = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
return {current, ttl}`;
try { console.log(await c.eval(LUA, { keys: ['govcase:rl:test'], arguments: ['5000'] })); } catch (e) { console.log('ERR', e); }
console.log(await c.keys('govcase:*'));
await c.close();
