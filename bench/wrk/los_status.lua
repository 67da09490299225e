-- GET the fake LOS's status endpoint directly (not through leadgate): what the live partner call
-- inside one lead_status costs on the partner's side of this machine. A floor row, not a target.
local C = dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
setup = C.setup
done = C.done
function init(args)
  wrk.method = "GET"
  wrk.path = "/GetApplicationStatus?basic_application_id=FBENCHFLOOR01"
end
