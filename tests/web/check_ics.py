"""Reads a calendar feed with the `icalendar` package (an independent RFC 5545 parser) and checks it.

Usage: check_ics.py FEED.ics [EXPECTED.json]

EXPECTED, when given, lists the slots the store holds as [{"start": RFC 3339, "end": RFC 3339}, ...];
the feed's events must be exactly those, in order. Prints a JSON summary on success; exits 1 with
the reasons otherwise.
"""

import json
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar

ZONE = ZoneInfo("Africa/Johannesburg")


def main() -> int:
    feed_path = sys.argv[1]
    expected = json.load(open(sys.argv[2])) if len(sys.argv) > 2 else None
    with open(feed_path, "rb") as f:
        raw = f.read()
    problems = []
    calendar = icalendar.Calendar.from_ical(raw)
    for name in ("VERSION", "PRODID", "X-WR-CALNAME", "REFRESH-INTERVAL", "X-PUBLISHED-TTL"):
        if name not in calendar:
            problems.append(f"the calendar has no {name}")
    if str(calendar.get("VERSION")) != "2.0":
        problems.append("VERSION is not 2.0")
    refresh = calendar.get("REFRESH-INTERVAL")
    if refresh is not None and refresh.dt != timedelta(hours=1):
        problems.append(f"REFRESH-INTERVAL is {refresh.dt}, not an hour")
    if str(calendar.get("X-PUBLISHED-TTL")) != "PT1H":
        problems.append("X-PUBLISHED-TTL is not PT1H")
    if b"\r\n" not in raw or b"\n" in raw.replace(b"\r\n", b""):
        problems.append("lines do not end in CRLF")

    now = datetime.now(timezone.utc)
    events = []
    uids = set()
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID"))
        if uid in uids:
            problems.append(f"UID {uid} appears twice")
        uids.add(uid)
        for name in ("DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            if name not in event:
                problems.append(f"{uid}: no {name}")
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        if not (isinstance(start, datetime) and start.tzinfo and isinstance(end, datetime) and end.tzinfo):
            problems.append(f"{uid}: DTSTART/DTEND are not zoned date-times: {start!r} {end!r}")
            continue
        if end <= start:
            problems.append(f"{uid}: ends at {end} before it starts at {start}")
        if end <= now:
            problems.append(f"{uid}: ended at {end}, yet an upcoming slot was asked for")
        local_start, local_end = start.astimezone(ZONE), end.astimezone(ZONE)
        # Loadshedding slots start on the hour or half hour, South African time.
        if local_start.minute not in (0, 30) or local_start.second != 0:
            problems.append(f"{uid}: starts at {local_start:%H:%M:%S} South African time")
        if "Loadshedding" not in str(event.get("SUMMARY")):
            problems.append(f"{uid}: SUMMARY does not say loadshedding")
        events.append({"uid": uid, "start": start, "end": end, "local_start": local_start.isoformat(),
                       "local_end": local_end.isoformat(), "summary": str(event.get("SUMMARY"))})

    if expected is not None:
        want = [(datetime.fromisoformat(e["start"]), datetime.fromisoformat(e["end"])) for e in expected]
        got = [(e["start"], e["end"]) for e in events]
        if got != want:
            problems.append(f"the events are {[(s.isoformat(), e.isoformat()) for s, e in got]}, "
                            f"the store holds {[(s.isoformat(), e.isoformat()) for s, e in want]}")

    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    print(json.dumps({
        "name": str(calendar.get("X-WR-CALNAME")),
        "events": [{k: v for k, v in e.items() if k not in ("start", "end")} for e in events],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
