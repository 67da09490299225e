-- POST /api_v1/create_lead with a new valid customer on every request. Records, for every lead
-- created (200), "basic_application_id applicationId mobile" under BENCH_OUT (for lead_flash and
-- lead_status). The mobile travels in X-Request-ID, which leadgate echoes on the answer.
local C = dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local data_dir = os.getenv("BENCH_DATA_DIR") or "data"
local counter, pins, ids = 0, nil, nil

setup = C.setup
done = C.done

function init(args)
  pins = C.pincodes(data_dir)
  ids = io.open(string.format("%s/ids_%02d_%d.txt", C.out, C.seq, tid), "w")
  wrk.method = "POST"
  wrk.path = "/api_v1/create_lead"
  wrk.headers = C.headers()
end

function request()
  counter = counter + 1
  local u = C.unique(tid, counter)
  local mobile = C.mobile(9, tid, counter)
  local body = string.format(
    '{"environment":"orbit","firstName":"Asha","lastName":"Verma","mobile":"%s",' ..
    '"email":"c%d@example.com","pan":"%s","loanType":"HL","loanAmountReq":%d,' ..
    '"loanTenure":240,"creditScore":%d,"pincode":"%s","dateOfBirth":"1990-05-15",' ..
    '"annualIncome":1800000,"gender":"Female"}',
    mobile, u, C.pan(u), 2000000 + (u % 50) * 10000, 650 + u % 200, pins[u % #pins + 1])
  local headers = C.headers()
  headers["X-Request-ID"] = "bench-" .. mobile
  return wrk.format(nil, nil, headers, body)
end

function response(status, headers, body)
  if status == 200 then
    local bid = body:match('"basic_application_id":"([^"]+)"')
    local app = body:match('"applicationId":"([^"]+)"')
    local rid = headers["X-Request-ID"] or headers["x-request-id"] or ""
    local mobile = rid:match("^bench%-(%d+)$")
    if bid and app and mobile then ids:write(bid, " ", app, " ", mobile, "\n") end
  end
end
