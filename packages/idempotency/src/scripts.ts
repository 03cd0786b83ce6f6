import { luaScript } from './lua-script.js';

/**
 * Claims the key with SET NX PX, or returns the record already there with its remaining lifetime.
 * KEYS[1] record key; ARGV[1] in-progress record; ARGV[2] claim TTL (ms). Returns {1} or {0, record, pttl}.
 */
export const claimScript = luaScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
return {0, redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
`);

// Only the claimant's token may finish a claim: a claimant whose claim expired (and was re-claimed) changes nothing.
const ownsClaim = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local ok, record = pcall(cjson.decode, current)
if not ok or record.state ~= 'in_progress' or record.token ~= ARGV[1] then return 0 end
`;

/** KEYS[1] record key; ARGV[1] token; ARGV[2] completed record; ARGV[3] retention (ms); ARGV[4] channel. Returns 1 when stored. */
export const completeScript = luaScript(`${ownsClaim}
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('PUBLISH', ARGV[4], 'completed')
return 1
`);

/** KEYS[1] record key; ARGV[1] token; ARGV[2] channel. Returns 1 when the claim was dropped. */
export const releaseScript = luaScript(`${ownsClaim}
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], 'released')
return 1
`);
