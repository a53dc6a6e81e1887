-- wrk script: replay pre-signed Twilio requests (one per line: path TAB body TAB signature).
-- Each wrk thread takes every n-th line, so no two threads send the same request.
local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  reqs = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % tonumber(args[2]) == id then
      local path, body, sig = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)")
      table.insert(reqs, wrk.format("POST", path, {["Content-Type"] = "application/x-www-form-urlencoded",
                                                   ["X-Twilio-Signature"] = sig}, body))
    end
    i = i + 1
  end
end

function request()
  local r = reqs[counter]
  counter = counter % #reqs + 1
  return r
end

function done(summary, latency, requests)
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "status_errors": %d, "connect_errors": %d,'
    .. ' "read_errors": %d, "timeouts": %d, "p50_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
