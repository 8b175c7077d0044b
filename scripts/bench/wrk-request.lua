-- A wrk script for scripts/bench/load.sh: the request (method and Accept
-- header from the environment), an optional pause between requests on each
-- connection, and one machine-readable summary line at the end.
--
--   WRK_METHOD    GET (default) or HEAD
--   WRK_ACCEPT    an Accept header (manifests)
--   WRK_DELAY_MS  pause before each next request on a connection (fixed rate)
--
-- No response() callback: defining one makes wrk parse every response into
-- Lua, which would slow the client, not the server. Statuses are checked
-- from wrk's own count of non-2xx/3xx answers instead.
local method = os.getenv("WRK_METHOD") or "GET"
local accept = os.getenv("WRK_ACCEPT")
local pause = tonumber(os.getenv("WRK_DELAY_MS") or "0")

wrk.method = method
if accept and accept ~= "" then
  wrk.headers["Accept"] = accept
end

if pause > 0 then
  function delay()
    return pause
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d non_2xx_3xx=%d " ..
    "p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
end
