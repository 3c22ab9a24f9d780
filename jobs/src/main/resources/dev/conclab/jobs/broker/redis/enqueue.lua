-- ARGV: prefix, n, then n message specs. Returns the ids the tasks are known under, in order.
local now = now_ms()
local n = tonumber(ARGV[2])
local ids = {}
for k = 0, n - 1 do
  ids[#ids + 1] = enqueue_new(3 + k * SPEC, now)
end
return ids
