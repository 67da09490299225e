-- POST /api_v1/lead_flash once for each application created by the create_lead run (file
-- BENCH_IDS: "basic_application_id applicationId mobile" per line, shared out between threads). A thread
-- stops when its share is used up: flashing an application twice is a 409, not a benchmark.
local C = dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local apps, i = nil, 0

setup = C.setup
done = C.done

function init(args)
  local threads = tonumber(os.getenv("BENCH_THREADS") or "2")
  apps = C.share(os.getenv("BENCH_IDS"), tid + 1, threads)
  wrk.method = "POST"
  wrk.path = "/api_v1/lead_flash"
  wrk.headers = C.headers()
end

function request()
  C.mark_request()
  i = i + 1
  if i > #apps then
    -- Share used up: stop this thread. The request returned here may still be written but its
    -- answer is never read or counted; make it a harmless one.
    wrk.thread:stop()
    return wrk.format("GET", "/healthz", {}, nil)
  end
  local app = apps[i]:match("^%S+ (%S+)")
  local body = string.format(
    '{"environment":"orbit","applicationId":"%s","professionId":1,' ..
    '"professionName":"Software Engineer","propertyIdentified":true,"propertyValue":6000000,' ..
    '"propertyType":"Apartment","agreementType":"Sale Deed","usageType":"residential",' ..
    '"salaryCreditModeId":1,"salaryCreditModeName":"Bank Transfer","coBorrowerIncome":0}', app)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  C.mark_response()
end
