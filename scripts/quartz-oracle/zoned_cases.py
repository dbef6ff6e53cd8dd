#!/usr/bin/env python3
"""Writes the time-zone cron cases tapline's differential test checks against Quartz.

Expressions that fire at, inside and around daylight-saving changes, in zones with 1-hour,
30-minute and no changes, offsets of :30 and :45, and both hemispheres, from starts a few days
before the changes of 2025-2027 and from ordinary days.
Output: EXPRESSION<TAB>START<TAB>COUNT<TAB>ZONE lines.
"""

ZONES = ["America/New_York", "Europe/Berlin", "Europe/London", "Australia/Sydney", "Australia/Lord_Howe",
         "America/Santiago", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham", "America/Sao_Paulo",
         "Asia/Tokyo", "UTC"]

EXPRESSIONS = [
    "0 30 2 * * ?", "0 30 1 * * ?", "0 0 2 * * ?", "0 0 3 * * ?", "0 15 2,3 * * ?", "0 0 0 * * ?",
    "0 0 12 ? * MON-FRI", "0 0/30 * * * ?", "0 0 * * * ?", "0 45 23 L * ?", "0 0 9 ? * 1#1",
    "0 0 1-3 * * ?", "30 59 1 * * ?", "0 0 0 1 * ?",
]

# Starts two days before each change (so the sequence crosses it), and ordinary days.
STARTS = ["2025-03-06T00:00:00Z", "2025-03-28T00:00:00Z", "2025-04-04T00:00:00Z", "2025-09-26T00:00:00Z",
          "2025-10-24T00:00:00Z", "2025-10-31T00:00:00Z", "2026-03-06T00:00:00Z", "2026-03-27T00:00:00Z",
          "2026-04-03T00:00:00Z", "2026-09-25T00:00:00Z", "2026-10-23T00:00:00Z", "2026-10-30T00:00:00Z",
          "2027-01-15T12:00:00Z", "2027-06-15T12:00:00Z"]


def main():
    for zone in ZONES:
        for expression in EXPRESSIONS:
            for start in STARTS:
                print("%s\t%s\t%d\t%s" % (expression, start, 12, zone))


main()
