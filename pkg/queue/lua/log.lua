-- ARGV: prefix, lines kept, expiry (ms), then (stage, item, attempt,
-- worker, level, message) for each line.
-- Appends log lines to their items' tails (pvs:log:<stage>:<item>), each
-- stamped with Redis's time like every other time the queue records, keeps
-- the newest lines only and lets an idle tail expire. Returns the number
-- of lines written.
local keep, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
local ts = stamp(now_ms())
local touched = {}
local n = 0
for i = 4, #ARGV - 5, 6 do
  local k = P .. 'pvs:log:' .. ARGV[i] .. ':' .. ARGV[i + 1]
  redis.call('RPUSH', k, cjson.encode({
    time = ts, attempt = tonumber(ARGV[i + 2]), worker = ARGV[i + 3],
    level = ARGV[i + 4], msg = ARGV[i + 5]}))
  touched[k] = true
  n = n + 1
end
for k in pairs(touched) do
  redis.call('LTRIM', k, -keep, -1)
  redis.call('PEXPIRE', k, ttl)
end
return n
