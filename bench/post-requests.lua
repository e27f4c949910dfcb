-- wrk script for bench/load.sh: POSTs engagement requests, cycling through
-- the opportunities a rep owns.
--
-- Environment: BENCH_TOKEN (the rep's bearer token), BENCH_OPPS (their
-- opportunity ids, comma-separated), BENCH_PM (a PM's id), BENCH_NEEDED_AT
-- (an RFC 3339 time in the future).

local token = os.getenv("BENCH_TOKEN")
local pm = os.getenv("BENCH_PM")
local needed_at = os.getenv("BENCH_NEEDED_AT")
local opps = {}
for id in string.gmatch(os.getenv("BENCH_OPPS") or "", "[^,]+") do
  opps[#opps + 1] = id
end
-- Mostly product engagements; now and then sales support (held for an
-- exception) and a short briefing (a warning): the decisions a real mix makes.
local types = {
  "roadmap-briefing", "vision-presentation", "solution-review",
  "roadmap-briefing", "presentation-development", "demo",
  "executive-briefing", "roadmap-briefing",
}

local counter = 0

function setup(thread)
  -- Each thread starts elsewhere in the lists.
  thread:set("counter", math.random(1, 1000))
end

function request()
  counter = counter + 1
  local opp = opps[(counter % #opps) + 1]
  local ty = types[(counter % #types) + 1]
  local briefing = "The customer's CIO wants to hear where the platform is going over the next year."
  if counter % 13 == 0 then
    briefing = "Quick call."
  end
  local body = string.format(
    '{"opportunity":"%s","pm":"%s","engagement_type":"%s","briefing":"%s","needed_at":"%s"}',
    opp, pm, ty, briefing, needed_at)
  return wrk.format("POST", "/api/v1/requests", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end
