-- ARGV: prefix, then (task id, consumer) pairs. Marks each task STARTED unless it is final (revoked meanwhile).
-- Returns how many were marked.
local now = now_ms()
local marked = 0
for i = 2, #ARGV - 1, 2 do
  local rk = rkey(ARGV[i])
  local st = redis.call('HGET', rk, 'state')
  if st and not FINAL[st] then
    redis.call('HSET', rk, 'state', 'STARTED', 'started', now, 'worker', ARGV[i + 1])
    marked = marked + 1
  end
end
return marked
