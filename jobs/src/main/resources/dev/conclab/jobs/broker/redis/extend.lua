-- ARGV: prefix, task id, receipt (entry id), consumer, queue, prio, delivery count, visibility ms.
-- XCLAIM to the same consumer resets the entry's idle time, which is what XAUTOCLAIM's min-idle measures.
local id, receipt, consumer, queue, prio, dc, vis = unpack(ARGV, 2, 8)
local rk = rkey(id)
local f = redis.call('HMGET', rk, 'state', 'deliveries', 'eid')
if not f[1] or FINAL[f[1]] or f[3] ~= receipt or tonumber(f[2]) ~= tonumber(dc) then return 0 end
local sk = skey(queue, prio)
local pe = redis.call('XPENDING', sk, G, receipt, receipt, 1)
if #pe == 0 or pe[1][2] ~= consumer then return 0 end
redis.call('XCLAIM', sk, G, consumer, 0, receipt, 'JUSTID')
redis.call('HSET', rk, 'vis', vis)
return 1
