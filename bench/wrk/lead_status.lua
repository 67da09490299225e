-- POST /api_v1/lead_status for existing customers (BENCH_IDS: "basic_application_id
-- applicationId mobile" per lead), picked at random; alternately by mobile_number and by
-- basic_application_id.
local C = dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local ids, n = nil, 0

setup = C.setup
done = C.done

function init(args)
  ids = C.share(os.getenv("BENCH_IDS"), 1, 1)
  math.randomseed(tid * 7919 + os.time())
  wrk.method = "POST"
  wrk.path = "/api_v1/lead_status"
  wrk.headers = C.headers()
end

function request()
  n = n + 1
  local body
  if n % 2 == 0 then
    body = string.format('{"environment":"orbit","mobile_number":"%s"}',
                         ids[math.random(#ids)]:match("(%S+)$"))
  else
    local bid = ids[math.random(#ids)]:match("^(%S+)")
    body = string.format('{"environment":"orbit","basic_application_id":"%s"}', bid)
  end
  return wrk.format(nil, nil, nil, body)
end
