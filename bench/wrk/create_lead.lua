-- POST /api_v1/create_lead with a new valid customer on every request. Records the mobiles it
-- used and the ids leadgate answered (for lead_flash and lead_status) under BENCH_OUT.
local C = dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local data_dir = os.getenv("BENCH_DATA_DIR") or "data"
local counter, pins, mobiles, ids = 0, nil, nil, nil

setup = C.setup
done = C.done

function init(args)
  pins = C.pincodes(data_dir)
  mobiles = io.open(string.format("%s/mobiles_%02d_%d.txt", C.out, C.seq, tid), "w")
  ids = io.open(string.format("%s/ids_%02d_%d.txt", C.out, C.seq, tid), "w")
  wrk.method = "POST"
  wrk.path = "/api_v1/create_lead"
  wrk.headers = C.headers()
end

function request()
  counter = counter + 1
  local u = C.unique(tid, counter)
  local mobile = C.mobile(9, tid, counter)
  mobiles:write(mobile, "\n")
  local body = string.format(
    '{"environment":"orbit","firstName":"Asha","lastName":"Verma","mobile":"%s",' ..
    '"email":"c%d@example.com","pan":"%s","loanType":"HL","loanAmountReq":%d,' ..
    '"loanTenure":240,"creditScore":%d,"pincode":"%s","dateOfBirth":"1990-05-15",' ..
    '"annualIncome":1800000,"gender":"Female"}',
    mobile, u, C.pan(u), 2000000 + (u % 50) * 10000, 650 + u % 200, pins[u % #pins + 1])
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 200 then
    local bid = body:match('"basic_application_id":"([^"]+)"')
    local app = body:match('"applicationId":"([^"]+)"')
    if bid and app then ids:write(bid, " ", app, "\n") end
  end
end
