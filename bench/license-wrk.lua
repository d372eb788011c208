-- wrk script for bench/license-load: POST /license with the W3C Clear Key
-- request, each request with the next precomputed Digest answer of this
-- thread's file (its own nonce; nc rises by one per request).
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("file", os.getenv("HEADERS_PREFIX") .. next_id)
end

function init(args)
  lines = {}
  for line in io.lines(file) do lines[#lines + 1] = line end
  count = 0
  body = os.getenv("LICENSE_BODY")
end

function request()
  count = count + 1
  if count > #lines then count = #lines end -- out of answers: the server refuses the replays (counted as non-2xx)
  return wrk.format("POST", "/license", { ["Authorization"] = lines[count], ["Content-Type"] = "application/json" }, body)
end
