-- ARGV: prefix, task id, receipt, consumer, queue, prio, visibility ms. Returns 1 if extended, 0 if the
-- reservation is not this one any more (redelivered, settled, retried).
-- XCLAIM to the same consumer resets the entry's idle time, which is what XAUTOCLAIM's min-idle measures (see lease).
local id, receipt, consumer, queue, prio, vis = unpack(ARGV, 2, 7)
local eid, gen = parse_receipt(receipt)
local rk = rkey(id)
local f = redis.call('HMGET', rk, 'state', 'gen', 'eid')
if not f[1] or FINAL[f[1]] or f[3] ~= eid or f[2] ~= gen then return 0 end
local sk = skey(queue, prio)
local pe = redis.call('XPENDING', sk, G, eid, eid, 1)
if #pe == 0 or pe[1][2] ~= consumer then return 0 end
lease(sk, consumer, eid, vis, now_ms())
return 1
