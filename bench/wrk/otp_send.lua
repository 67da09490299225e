-- POST /api_v1/otp_send (user_check true: OTP only) to a new phone on every request. The code
-- reaches the fake Gupshup, which logs the form body; bench/run.sh turns that log into the
-- "phone code" file otp_verify.lua reads.
local C = dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local counter = 0

setup = C.setup
done = C.done

function init(args)
  wrk.method = "POST"
  wrk.path = "/api_v1/otp_send"
  wrk.headers = C.headers()
end

function request()
  counter = counter + 1
  local body = string.format('{"environment":"orbit","phone_number":"%s","user_check":true}',
                             C.mobile(8, tid, counter))
  return wrk.format(nil, nil, nil, body)
end
