-- POST /api_v1/whatsapp/webhook/<token>: a Gupshup v2 message-event (delivery receipt) with a new
-- id on every request, i.e. every request is stored in the inbox (no redelivery short-cut). The
-- message it is about (gsId) is one bench/run.sh seeded as sent (seed_receipt_messages).
local C = dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local counter = 0

setup = C.setup
done = C.done

function init(args)
  wrk.method = "POST"
  wrk.path = "/api_v1/whatsapp/webhook/" .. (os.getenv("BENCH_WEBHOOK_TOKEN") or "")
  wrk.headers = { ["Content-Type"] = "application/json" }
end

function request()
  counter = counter + 1
  local u = C.unique(tid, counter)
  local ts = os.time()
  local body = string.format(
    '{"app":"OrbitLoans","timestamp":%d500,"version":2,"type":"message-event",' ..
    '"payload":{"id":"gBEGbench%09d","gsId":"bench-%09d","type":"delivered",' ..
    '"destination":"91%s","payload":{"ts":%d}}}', ts, u, u, C.mobile(7, tid, counter), ts)
  return wrk.format(nil, nil, nil, body)
end
