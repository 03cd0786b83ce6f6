import { luaScript } from './lua-script.js';

/**
 * A sliding-window log in one sorted set per bucket (score = time in ms), evaluated atomically.
 * An entry made at t counts while now < t + window. A refused request records nothing.
 * KEYS[1] bucket; ARGV: limit, window ms, cost, now ms ('' = the Redis server's clock), entry id, '1' record / '0' peek.
 * Returns {allowed (1|0), remaining, retry after ms}.
 */
export const slidingWindowScript = luaScript(`
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
if used + cost <= limit then
  if ARGV[6] == '1' then
    for i = 1, cost do redis.call('ZADD', KEYS[1], now, ARGV[5] .. ':' .. i) end
    redis.call('PEXPIRE', KEYS[1], window)
    used = used + cost
  end
  return {1, limit - used, 0}
end
if cost > limit then return {0, limit - used, window} end
local index = used + cost - limit - 1
local freed = redis.call('ZRANGE', KEYS[1], index, index, 'WITHSCORES')
return {0, limit - used, tonumber(freed[2]) + window - now}
`);
