-- ARGV: prefix, bucket key, permits per second, burst. A token bucket on the server's clock, shared by every
-- worker. Returns 0 if a permit was taken, else the milliseconds until one is available.
local k = P .. 'rl:' .. ARGV[2]
local rate, burst = tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
local f = redis.call('HMGET', k, 'tokens', 'ts')
local tokens = tonumber(f[1]) or burst
local ts = tonumber(f[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.max(1, math.ceil((1 - tokens) * 1000 / rate))
end
redis.call('HSET', k, 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', k, math.ceil(burst * 1000 / rate) + 60000)
return wait
