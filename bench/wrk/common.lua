-- Shared by the bench/wrk scripts (loaded with dofile). Environment (set by bench/run.sh):
--   BENCH_DIR   the bench/ folder            BENCH_OUT  folder for id files of this run
--   BENCH_KEY   API key                      BENCH_SEQ  number of this wrk run (0-99): keeps
--   BENCH_DELAY_MS  optional pause before each request on a connection (paced load)
--   customers of different runs apart
local M = {}

M.key = os.getenv("BENCH_KEY") or ""
M.out = os.getenv("BENCH_OUT") or "/tmp"
M.seq = tonumber(os.getenv("BENCH_SEQ") or "0") % 100
M.delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec* ts);
]]
local ts = ffi.new("bench_timespec")
function M.now_us()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local threads = {}
-- Gives every wrk thread its own small id (a global `tid` in the thread's Lua state).
function M.setup(thread)
  thread:set("tid", #threads)
  threads[#threads + 1] = thread
end

-- For scripts whose threads stop when their share of ids is used up: wrk divides by the full
-- duration, so they record when their first request left and their last answer came
-- (globals first_us / last_us, read in done()).
function M.mark_request()
  if not first_us then first_us = M.now_us() end
end
function M.mark_response()
  last_us = M.now_us()
end

-- A 9-digit number unique per (run, thread, counter): 2 + 1 + 6 digits.
function M.unique(t, n)
  return M.seq * 10000000 + (t % 10) * 1000000 + (n % 1000000)
end

-- Indian mobile: first digit 6-9, then 9 digits.
function M.mobile(first, t, n)
  return string.format("%d%09d", first, M.unique(t, n))
end

local letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
local function letter(i) local k = i % 26 + 1; return letters:sub(k, k) end

-- PAN AAAAA9999A with the 4th letter P (individual), varied by n.
function M.pan(u)
  local hi = math.floor(u / 10000)
  return letter(hi) .. letter(math.floor(hi / 26)) .. letter(math.floor(hi / 676)) .. "P" ..
         letter(math.floor(hi / 17576)) .. string.format("%04d", u % 10000) .. letter(u)
end

-- Pincodes present in data/pincodes.csv.
function M.pincodes(data_dir)
  local list = {}
  local f = io.open(data_dir .. "/pincodes.csv", "r")
  if f then
    for line in f:lines() do
      local pin = line:match("^(%d%d%d%d%d%d),")
      if pin then list[#list + 1] = pin end
      if #list >= 2000 then break end
    end
    f:close()
  end
  if #list == 0 then list = { "400001", "110001" } end
  return list
end

-- Lines of a file, every `every`-th starting at `first` (1-based): a thread's share.
function M.share(path, first, every)
  local out = {}
  local f = io.open(path, "r")
  if not f then return out end
  local i = 0
  for line in f:lines() do
    i = i + 1
    if (i - first) % every == 0 and line ~= "" then out[#out + 1] = line end
  end
  f:close()
  return out
end

function M.headers()
  return { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. M.key }
end

-- One machine-readable line for bench/run.sh (latencies in microseconds).
function M.done(summary, latency, requests)
  local first, last = nil, nil
  for _, t in ipairs(threads) do
    local f, l = t:get("first_us"), t:get("last_us")
    if f and (not first or f < first) then first = f end
    if l and (not last or l > last) then last = l end
  end
  local active = (first and last and last > first) and (last - first) or 0
  io.write(string.format("BENCH_ACTIVE active_us=%d\n", active))
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d p50=%d p90=%d p99=%d p999=%d max=%d " ..
    "connect_err=%d read_err=%d write_err=%d status_err=%d timeout_err=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end

if M.delay_ms > 0 then
  function delay() return M.delay_ms end
end

return M
