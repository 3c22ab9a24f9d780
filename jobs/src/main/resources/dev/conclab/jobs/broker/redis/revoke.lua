-- ARGV: prefix, task id, reason. Returns 1 if the task became REVOKED, 0 if unknown or already final.
-- A queued message goes at once; a reserved one stays until its worker settles it or a reserve would redeliver it
-- (reserve drops messages of final tasks).
local id, reason = ARGV[2], ARGV[3]
local rk = rkey(id)
local st = redis.call('HGET', rk, 'state')
if not st or FINAL[st] then return 0 end
local f = redis.call('HMGET', rk, 'eid', 'sk', 'queue')
if f[1] and f[1] ~= '' then
  if not redis.call('ZSCORE', lkey(f[2]), f[1]) then -- queued, not reserved
    redis.call('XDEL', f[2], f[1])
    redis.call('HSET', rk, 'eid', '')
  end
end
if f[3] then redis.call('ZREM', ekey(f[3]), id) end
revoke_record(id, reason, now_ms())
return 1
