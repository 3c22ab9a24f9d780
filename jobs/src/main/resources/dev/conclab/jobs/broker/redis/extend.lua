-- ARGV: prefix, task id, receipt, consumer, queue, prio, visibility ms. Returns 1 if extended, 0 if the
-- reservation is not this one any more (redelivered, settled, retried).
local id, receipt, consumer, queue, prio, vis = unpack(ARGV, 2, 7)
local eid, gen = parse_receipt(receipt)
local rk = rkey(id)
local f = redis.call('HMGET', rk, 'state', 'gen', 'eid')
if not f[1] or FINAL[f[1]] or f[3] ~= eid or f[2] ~= gen then return 0 end
local sk = skey(queue, prio)
local pe = redis.call('XPENDING', sk, G, eid, eid, 1)
if #pe == 0 or pe[1][2] ~= consumer then return 0 end
local now = now_ms()
lease(sk, eid, now + tonumber(vis))
-- XCLAIM to the same consumer resets the entry's idle time in the pending list: XPENDING shows the last heartbeat
redis.call('XCLAIM', sk, G, consumer, 0, eid, 'JUSTID')
return 1
