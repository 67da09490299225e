-- pgbench: one trivial round trip. Its rate at 64 clients bounds any request that needs N
-- statements to (this rate / N) on this machine, before any real work.
SELECT 1;
