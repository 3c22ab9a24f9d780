-- ARGV: prefix, task id, kind (S success, R retry, F failure, V revoked, L release), receipt, consumer, queue, prio,
-- text (result, error or reason), dead-letter flag, chord id or '', then a message spec or nothing (S: the chain's
-- link; R: the next attempt). Returns 1 if applied, 0 if dropped.
local id, kind, receipt, consumer, queue, prio, text, dead, chord = unpack(ARGV, 2, 10)
local eid, gen = parse_receipt(receipt)
local now = now_ms()
local rk = rkey(id)
local rsk = skey(queue, prio)
local st = redis.call('HGET', rk, 'state')

local function drop_receipt()
  drop_entry(rsk, eid)
end

if not st then
  drop_receipt()
  return 0
end
if FINAL[st] then
  -- a redelivered copy finished after the first; a revoked task's own worker reporting back is not a duplicate
  if st ~= 'REVOKED' then count('duplicates') end
  drop_receipt()
  return 0
end

if kind == 'R' or kind == 'L' then
  -- only the current holder of the current reservation may put the message back
  local f = redis.call('HMGET', rk, 'eid', 'gen')
  if f[1] ~= eid or f[2] ~= gen then return 0 end
  local pe = redis.call('XPENDING', rsk, G, eid, eid, 1)
  if #pe == 0 or pe[1][2] ~= consumer then return 0 end
  if kind == 'R' then
    drop_receipt()
    local i = 11
    redis.call('HSET', rk, 'state', 'RETRY', 'error', text, 'msg', ARGV[i + 8], 'attempt', ARGV[i + 9], 'adel', 0)
    place(id, ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], now)
  else
    -- lapsed at once: the next reserve takes it back before anything newer in its stream (rel: not a redelivery)
    lease(rsk, eid, 0)
    redis.call('HSET', rk, 'state', 'PENDING', 'rel', '1')
    redis.call('HINCRBY', rk, 'deliveries', -1)
    redis.call('HINCRBY', rk, 'adel', -1)
    count('delivered', -1)
  end
  return 1
end

drop_receipt()
unqueue(id, eid)
redis.call('HSET', rk, 'eid', '')
if kind == 'S' then
  redis.call('HSET', rk, 'state', 'SUCCESS', 'result', text, 'finished', now)
  count('succeeded')
  if ARGV[11] then enqueue_new(11, now) end
  if chord ~= '' then chord_success(chord, now) end
elseif kind == 'F' then
  redis.call('HSET', rk, 'state', 'FAILURE', 'error', text, 'finished', now)
  count('failed')
  if dead == '1' then redis.call('ZADD', P .. 'dead', redis.call('INCR', P .. 'deadseq'), id) end
  if chord ~= '' then chord_fail(chord, id, text, now) end
else
  revoke_record(id, text, now)
end
return 1
