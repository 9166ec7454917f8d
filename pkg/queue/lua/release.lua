-- ARGV: prefix, stage, worker, progress set, reason, queue...
-- Gives back every item the worker holds and forgets the worker: at its
-- start (items of a previous life under the same id) and at its shutdown.
local n = release(ARGV[2], ARGV[3], {unpack(ARGV, 6)}, ARGV[4], ARGV[5])
forget(ARGV[2], ARGV[3])
return n
