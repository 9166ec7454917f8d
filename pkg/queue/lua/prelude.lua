-- Shared by every pvs queue script (prepended to each). ARGV[1] is the key
-- prefix; every other key name is built here from it, because the take and
-- reclaim scripts only learn which items (and so which history keys) they
-- touch once they run. That makes the scripts single-instance only (as PVS
-- is): a Redis Cluster would need every key in KEYS.
local P = ARGV[1]

local function key(name) return P .. name end
local function hist_key(stage, item) return P .. 'pvs:history:' .. stage .. ':' .. item end
local function proc_key(worker, q) return P .. 'pvs:processing:' .. worker .. ':' .. q end
local function workers_key(stage) return P .. 'pvs:workers:' .. stage end
local function since_key(stage) return P .. 'pvs:workers-since:' .. stage end
local function delayed_key(q) return P .. 'pvs:delayed:' .. q end

-- Redis's clock, the only one the queue trusts: workers' clocks may be
-- skewed, Redis's is one clock for everybody.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- stamp formats milliseconds since the epoch as RFC 3339 in UTC (the Redis
-- sandbox has no os.date). Days to civil date after H. Hinnant.
local function stamp(ms)
  local s = math.floor(ms / 1000)
  local days, sod = math.floor(s / 86400), s % 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d,
    math.floor(sod / 3600), math.floor(sod % 3600 / 60), sod % 60, ms % 1000)
end

-- holder returns the worker holding item under the lease its history
-- names, or false. The processing list is checked as well as the lease so
-- that a history left behind by hand-edited keys cannot hold an item.
local function holder(h, item)
  local f = redis.call('HMGET', h, 'lease', 'worker', 'queue')
  if not f[1] or f[1] == '' or not f[2] or not f[3] then return false end
  if redis.call('LPOS', proc_key(f[2], f[3]), item) then return f[2] end
  return false
end

-- pending reports whether item waits or runs in stage: queued, held by a
-- worker, or waiting for a retry. The status alone is not trusted: it is
-- checked against the list or set that should hold the item, so a stale
-- status never swallows a push.
local function pending(stage, item)
  local h = hist_key(stage, item)
  local f = redis.call('HMGET', h, 'status', 'queue')
  local st, q = f[1], f[2]
  if not st or not q then return false end
  if st == 'queued' then return redis.call('LPOS', key(q), item) ~= false end
  if st == 'retrying' then return redis.call('ZSCORE', delayed_key(q), item) ~= false end
  if st == 'running' then return holder(h, item) ~= false end
  return false
end

-- enqueue pushes item unless it is already pending in stage (then the push
-- is the same work asked for twice: it runs once), starting a fresh history.
local function enqueue(stage, q, item, ts)
  if pending(stage, item) then return 0 end
  local h = hist_key(stage, item)
  redis.call('DEL', h)
  redis.call('HSET', h, 'stage', stage, 'queue', q, 'status', 'queued', 'attempts', 0, 'enqueued_at', ts)
  redis.call('LPUSH', key(q), item)
  return 1
end

-- give_back returns one item of worker's processing list for q to the
-- consuming end of q. The sets and history change only if worker is the
-- one the history names (it always is, unless keys were edited by hand).
local function give_back(stage, worker, q, progress, item, reason)
  redis.call('RPUSH', key(q), item)
  local h = hist_key(stage, item)
  if redis.call('HGET', h, 'worker') == worker then
    redis.call('SREM', key(progress), item)
    redis.call('HSET', h, 'status', 'queued', 'lease', '', 'error', reason)
  end
end

-- release gives back every item of worker's processing lists, oldest
-- nearest the consuming end (a processing list reads newest first).
local function release(stage, worker, queues, progress, reason)
  local n = 0
  for _, q in ipairs(queues) do
    local pk = proc_key(worker, q)
    for _, item in ipairs(redis.call('LRANGE', pk, 0, -1)) do
      give_back(stage, worker, q, progress, item, reason)
      n = n + 1
    end
    redis.call('DEL', pk)
  end
  return n
end

local function forget(stage, worker)
  redis.call('ZREM', workers_key(stage), worker)
  redis.call('HDEL', since_key(stage), worker)
end
