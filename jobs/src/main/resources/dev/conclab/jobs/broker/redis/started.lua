-- ARGV: prefix, task id, consumer. Returns 1 if the record moved to STARTED.
local rk = rkey(ARGV[2])
local st = redis.call('HGET', rk, 'state')
if not st or FINAL[st] then return 0 end
redis.call('HSET', rk, 'state', 'STARTED', 'started', now_ms(), 'worker', ARGV[3])
return 1
