/**
 * Lua of `RedisSocketPresence`. Keys, under `<prefix>{presence}:` (one hash slot, so the scripts
 * run on a Redis Cluster too):
 * - `s:<sessionId>`: sorted set of `<instanceId> <socketId>`, scored by expiry (epoch ms);
 * - `u:<userId>`: sorted set of the user's session ids, scored by their latest socket expiry;
 * - `sessions`: sorted set of `<sessionId> <userId>` with a live socket, by latest expiry;
 * - `users`: sorted set of user ids with a live socket, by latest expiry.
 * An expiry in the past is a socket whose instance stopped renewing it: it no longer counts.
 * ARGV[1] is the key prefix, ARGV[2] the caller's clock (epoch ms).
 */

/** ARGV: prefix, now, expiry, ttl ms, instance, then (socket, session, user) triples. Returns the sessions that came online. */
export const PRESENCE_ADD = `
local p, now, exp, ttl, inst = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local came = {}
for i = 6, #ARGV, 3 do
  local sock, sid, uid = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local member = sid .. ' ' .. uid
  local prev = redis.call('ZSCORE', p .. 'sessions', member)
  if (not prev) or tonumber(prev) <= now then came[#came + 1] = sid end
  local skey, ukey = p .. 's:' .. sid, p .. 'u:' .. uid
  redis.call('ZADD', skey, exp, inst .. ' ' .. sock)
  redis.call('PEXPIRE', skey, ttl)
  redis.call('ZADD', ukey, 'GT', exp, sid)
  redis.call('PEXPIRE', ukey, ttl)
  redis.call('ZADD', p .. 'sessions', 'GT', exp, member)
  redis.call('ZADD', p .. 'users', 'GT', exp, uid)
end
return came
`;

/** ARGV: prefix, now, instance, then (socket, session, user) triples. Returns `session user` of those left with no live socket. */
export const PRESENCE_REMOVE = `
local p, now, inst = ARGV[1], ARGV[2], ARGV[3]
local went = {}
for i = 4, #ARGV, 3 do
  local sock, sid, uid = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local skey, ukey = p .. 's:' .. sid, p .. 'u:' .. uid
  redis.call('ZREM', skey, inst .. ' ' .. sock)
  if redis.call('ZCOUNT', skey, '(' .. now, '+inf') == 0 then
    redis.call('DEL', skey)
    redis.call('ZREM', ukey, sid)
    if redis.call('ZREM', p .. 'sessions', sid .. ' ' .. uid) == 1 then went[#went + 1] = sid .. ' ' .. uid end
    if redis.call('ZCOUNT', ukey, '(' .. now, '+inf') == 0 then redis.call('ZREM', p .. 'users', uid) end
  end
end
return went
`;

/** ARGV: prefix, now, limit. Forgets expired entries; returns `session user` of sessions that went offline that way. */
export const PRESENCE_REAP = `
local p, now = ARGV[1], ARGV[2]
local went = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', p .. 'sessions', '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))) do
  redis.call('ZREM', p .. 'sessions', member)
  local sep = string.find(member, ' ', 1, true)
  local sid, uid = string.sub(member, 1, sep - 1), string.sub(member, sep + 1)
  local skey = p .. 's:' .. sid
  redis.call('ZREMRANGEBYSCORE', skey, '-inf', now)
  if redis.call('ZCARD', skey) == 0 then
    redis.call('ZREM', p .. 'u:' .. uid, sid)
    went[#went + 1] = member
  end
end
redis.call('ZREMRANGEBYSCORE', p .. 'users', '-inf', now)
return went
`;
