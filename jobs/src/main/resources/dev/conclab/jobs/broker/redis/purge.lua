-- ARGV: prefix, queue. Removes every queued (not reserved) message of the queue; their tasks become REVOKED.
local queue = ARGV[2]
local now = now_ms()
local removed = 0
local function revoke(id)
  local st = redis.call('HGET', rkey(id), 'state')
  if st and not FINAL[st] then revoke_record(id, 'purged', now) end
  redis.call('HSET', rkey(id), 'eid', '')
  removed = removed + 1
end
for prio = 0, 9 do
  local sk = skey(queue, prio)
  if redis.call('EXISTS', sk) == 1 then
    local lk = lkey(sk)
    for _, e in ipairs(redis.call('XRANGE', sk, '-', '+')) do
      if not redis.call('ZSCORE', lk, e[1]) then -- not reserved
        redis.call('XDEL', sk, e[1])
        revoke(e[2][2])
      end
    end
  end
end
local ek = ekey(queue)
for _, id in ipairs(redis.call('ZRANGE', ek, 0, -1)) do revoke(id) end
redis.call('DEL', ek)
return removed
