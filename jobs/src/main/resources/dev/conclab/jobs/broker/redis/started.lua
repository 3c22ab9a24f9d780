-- ARGV: prefix, then (task id, consumer, receipt) triples. Marks each task STARTED unless it is final (revoked
-- meanwhile) or the receipt is stale (the reservation lapsed and the message went to another consumer: that copy's
-- start is not the task's). Returns how many were marked.
local now = now_ms()
local marked = 0
for i = 2, #ARGV - 2, 3 do
  local rk = rkey(ARGV[i])
  local eid, gen = parse_receipt(ARGV[i + 2])
  local f = redis.call('HMGET', rk, 'state', 'eid', 'gen')
  if f[1] and not FINAL[f[1]] and f[2] == eid and f[3] == gen then
    redis.call('HSET', rk, 'state', 'STARTED', 'started', now, 'worker', ARGV[i + 1])
    marked = marked + 1
  end
end
return marked
