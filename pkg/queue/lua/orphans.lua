-- ARGV: prefix, stage, worker, progress set, reason, number of queues,
-- queue..., lease of each item the worker has in flight...
-- Gives back the items in the worker's processing lists that it does not
-- know it holds: a take whose reply was lost, an outcome it gave up
-- recording. Returns the items given back.
local stage, worker, progress, reason, nq = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local keep = {}
for i = 7 + nq, #ARGV do keep[ARGV[i]] = true end
local out = {}
for i = 7, 6 + nq do
  local q = ARGV[i]
  local pk = proc_key(worker, q)
  for _, item in ipairs(redis.call('LRANGE', pk, 0, -1)) do
    local f = redis.call('HMGET', hist_key(stage, item), 'lease', 'worker')
    if not (f[2] == worker and f[1] and keep[f[1]]) then
      redis.call('LREM', pk, 1, item)
      give_back(stage, worker, q, progress, item, reason)
      out[#out + 1] = item
    end
  end
end
return out
