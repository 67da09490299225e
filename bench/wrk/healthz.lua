-- GET /healthz: the cheap endpoint for the many-connections memory check.
local C = dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
setup = C.setup
done = C.done
function init(args)
  wrk.method = "GET"
  wrk.path = "/healthz"
end
