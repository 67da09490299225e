-- POST /api_v1/otp_verify with the real code of each phone otp_send.lua reached (BENCH_CODES:
-- "phone code" per line, shared out between threads); every verify is a success. A thread stops
-- when its share is used up (a code verifies once).
local C = dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local codes, i = nil, 0

setup = C.setup
done = C.done

function init(args)
  local threads = tonumber(os.getenv("BENCH_THREADS") or "2")
  codes = C.share(os.getenv("BENCH_CODES"), tid + 1, threads)
  wrk.method = "POST"
  wrk.path = "/api_v1/otp_verify"
  wrk.headers = C.headers()
end

function request()
  C.mark_request()
  i = i + 1
  if i > #codes then
    -- Share used up: stop this thread. The request returned here may still be written but its
    -- answer is never read or counted; make it a harmless one.
    wrk.thread:stop()
    return wrk.format("GET", "/healthz", {}, nil)
  end
  local phone, code = codes[i]:match("^(%d+) (%d+)$")
  local body = string.format('{"environment":"orbit","phone_number":"%s","otp":"%s"}', phone, code)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  C.mark_response()
end
