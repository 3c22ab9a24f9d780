-- ARGV: prefix. Returns { counters (delivered, redelivered, duplicates, succeeded, failed, dead letters),
-- { queue, queued }..., { task id, name, consumer, visible-again ms }... } as three arrays (in-flight: at most
-- 1,000 listed per stream, soonest to lapse first).
local c = redis.call('HMGET', STATS, 'delivered', 'redelivered', 'duplicates', 'succeeded', 'failed')
local counters = {}
for k = 1, 5 do counters[k] = tonumber(c[k]) or 0 end
counters[6] = redis.call('ZCARD', P .. 'dead')
local queued, inflight = {}, {}
for _, queue in ipairs(redis.call('SMEMBERS', P .. 'queues')) do
  local total = redis.call('ZCARD', ekey(queue))
  for prio = 0, 9 do
    local sk = skey(queue, prio)
    if redis.call('EXISTS', sk) == 1 then
      local lk = lkey(sk)
      total = total + redis.call('XLEN', sk) - redis.call('ZCARD', lk)
      local leases = redis.call('ZRANGE', lk, 0, 999, 'WITHSCORES')
      for k = 1, #leases, 2 do
        local eid = leases[k]
        local entry = redis.call('XRANGE', sk, eid, eid)
        local pe = redis.call('XPENDING', sk, G, eid, eid, 1)
        if entry[1] and pe[1] then
          local id = entry[1][2][2]
          local f = redis.call('HMGET', rkey(id), 'name', 'rel')
          if f[2] == '1' then
            total = total + 1 -- released: reserved only until the next reserve takes it back
          else
            inflight[#inflight + 1] = { id, f[1] or '', pe[1][2], tonumber(leases[k + 1]) }
          end
        end
      end
    end
  end
  queued[#queued + 1] = { queue, total }
end
return { counters, queued, inflight }
