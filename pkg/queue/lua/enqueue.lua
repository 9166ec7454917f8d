-- ARGV: prefix, stage, queue, item. Returns 1 if pushed, 0 if the item was
-- already pending in its stage.
return enqueue(ARGV[2], ARGV[3], ARGV[4], stamp(now_ms()))
