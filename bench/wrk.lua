-- wrk script: cycle over the paths in BENCH_PATHS (space-separated), sending the
-- session cookie in BENCH_COOKIE; report requests/s and latency percentiles as JSON.
local paths = {}
for p in string.gmatch(os.getenv("BENCH_PATHS") or "/", "%S+") do
  table.insert(paths, p)
end
local cookie = os.getenv("BENCH_COOKIE") or ""
local counter = 0

request = function()
  counter = counter + 1
  local path = paths[(counter % #paths) + 1]
  local headers = {}
  if cookie ~= "" then headers["Cookie"] = cookie end
  return wrk.format("GET", path, headers)
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1000000
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "seconds": %.3f, "rps": %.2f, "p50_ms": %.2f, ' ..
    '"p95_ms": %.2f, "p99_ms": %.2f, "errors": %d, "non_2xx": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, errors, summary.errors.status))
end
