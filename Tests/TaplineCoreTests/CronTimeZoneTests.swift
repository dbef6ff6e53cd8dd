import Foundation
import Testing

@testable import TaplineCore

/// Cron expressions read in a source's `cron_timezone`: daylight-saving rules, the zone database
/// over several zones and years, and Quartz's own `CronExpression` with `setTimeZone`.
@Suite("Cron time zones")
struct CronTimeZoneTests {
    static func at(_ text: String) -> Date { Timestamp.parse(text)! }
    static func fires(_ expression: String, _ zone: String, after start: String, count: Int) throws -> [String] {
        let cron = try CronExpression(parsing: expression)
        let schedule = Schedule(frequencyMinutes: 60, anchor: nil, cron: cron, zone: CronTimeZone.named(zone))
        var out: [String] = []
        var cursor = at(start)
        while out.count < count, let next = schedule.phasedOccurrence(after: cursor) {
            out.append(Timestamp.format(next))
            cursor = next
        }
        return out
    }

    @Test("spring forward: a time in the gap fires once, at the first valid instant")
    func springForward() throws {
        // New York, 2026-03-08: 02:00 EST becomes 03:00 EDT at 07:00Z.
        #expect(
            try Self.fires("0 30 2 * * ?", "America/New_York", after: "2026-03-07T00:00:00Z", count: 3)
                == ["2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"])
        // Every 15 minutes: the gap's four times fire once together, at 03:00 EDT.
        #expect(
            try Self.fires("0 0/15 * * * ?", "America/New_York", after: "2026-03-08T06:40:00Z", count: 4)
                == ["2026-03-08T06:45:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:15:00Z", "2026-03-08T07:30:00Z"])
        // Lord Howe moves by 30 minutes: 02:00 (+10:30) becomes 02:30 (+11) on 2026-10-04, at
        // 2026-10-03T15:30Z.
        #expect(
            try Self.fires("0 15 2 * * ?", "Australia/Lord_Howe", after: "2026-10-02T12:00:00Z", count: 3)
                == ["2026-10-02T15:45:00Z", "2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"])
        // Santiago's gap is at midnight: 00:00 becomes 01:00 on 2026-09-06.
        #expect(
            try Self.fires("0 0 0 * * ?", "America/Santiago", after: "2026-09-05T00:00:00Z", count: 2)
                == ["2026-09-05T04:00:00Z", "2026-09-06T04:00:00Z"])
    }

    @Test("fall back: a repeated wall time fires once, at its first occurrence")
    func fallBack() throws {
        // New York, 2026-11-01: 02:00 EDT becomes 01:00 EST at 06:00Z; 01:30 happens twice.
        #expect(
            try Self.fires("0 30 1 * * ?", "America/New_York", after: "2026-10-31T00:00:00Z", count: 3)
                == ["2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"])
        // Every 30 minutes: the repeated hour is not run again.
        #expect(
            try Self.fires("0 0/30 * * * ?", "America/New_York", after: "2026-11-01T04:50:00Z", count: 4)
                == ["2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-01T07:00:00Z", "2026-11-01T07:30:00Z"])
        // Computing from inside the repeated hour (a job that ran then) does not fire it again.
        #expect(try Self.fires("0 30 1 * * ?", "America/New_York", after: "2026-11-01T06:10:00Z", count: 1) == ["2026-11-02T06:30:00Z"])
        // Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00Z.
        #expect(
            try Self.fires("0 30 2 * * ?", "Europe/Berlin", after: "2026-10-24T12:00:00Z", count: 2)
                == ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"])
    }

    @Test("offsets of :30 and :45, the southern hemisphere, and UTC as the default")
    func offsets() throws {
        #expect(try Self.fires("0 0 9 * * ?", "Asia/Kolkata", after: "2026-06-01T00:00:00Z", count: 1) == ["2026-06-01T03:30:00Z"])
        #expect(try Self.fires("0 0 9 * * ?", "Pacific/Chatham", after: "2026-06-01T00:00:00Z", count: 1) == ["2026-06-01T20:15:00Z"])
        #expect(try Self.fires("0 0 9 * * ?", "Australia/Sydney", after: "2026-01-10T00:00:00Z", count: 1) == ["2026-01-10T22:00:00Z"])
        #expect(try Self.fires("0 0 9 * * ?", "UTC", after: "2026-06-01T00:00:00Z", count: 1) == ["2026-06-01T09:00:00Z"])
        let cron = try CronExpression(parsing: "0 0 9 * * ?")
        #expect(Schedule(frequencyMinutes: 60, anchor: nil, cron: cron, zone: CronTimeZone.named("UTC")) == .cron(cron))
    }

    @Test("only IANA names are time zones")
    func names() {
        #expect(CronTimeZone.named("Europe/Berlin") != nil && CronTimeZone.named("UTC") != nil)
        for bad in ["", "europe/berlin", "CEST", "GMT+1", "Nowhere/Else", "Europe/Berlin ", "+02:00"] {
            #expect(CronTimeZone.named(bad) == nil, "\(bad)")
        }
    }

    /// Daily schedules at every half hour, over six years in zones with and without changes,
    /// checked against the zone database through Foundation's calendar (not through the code
    /// under test): each fire shows the scheduled local time, or is the instant a gap that
    /// swallowed it ended; each local day fires once.
    @Test("daily schedules over six years and eight zones agree with the zone database")
    func zoneDatabaseSweep() throws {
        let zones = [
            "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago", "Asia/Kathmandu",
            "Pacific/Chatham", "Europe/London", "America/Havana",
        ]
        var checked = 0
        var gaps = 0
        for name in zones {
            let zone = try #require(CronTimeZone.named(name))
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            for (hour, minute) in [(0, 0), (0, 30), (1, 0), (1, 30), (2, 0), (2, 30), (3, 0), (12, 0), (23, 30)] {
                let schedule = Schedule(
                    frequencyMinutes: 60, anchor: nil, cron: try CronExpression(parsing: "0 \(minute) \(hour) * * ?"), zone: zone)
                var cursor = Self.at("2025-01-01T00:00:00Z")
                var lastDay: Int?
                while let next = schedule.phasedOccurrence(after: cursor), next < Self.at("2031-01-01T00:00:00Z") {
                    let local = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: next)
                    // The local date as a day number, and local times as instants on a UTC line.
                    let day = Int(
                        UTCCalendar.date(year: local.year!, month: local.month!, day: local.day!, hour: 0, minute: 0, second: 0)
                            .timeIntervalSince1970 / 86_400)
                    #expect(day != lastDay, "\(name) \(hour):\(minute): two fires on \(local)")
                    if local.hour != hour || local.minute != minute {
                        // Only at the end of a gap that contained the scheduled time.
                        let shown = { (t: Date) -> Date in
                            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: t)
                            return UTCCalendar.date(
                                year: c.year!, month: c.month!, day: c.day!, hour: c.hour!, minute: c.minute!, second: c.second!)
                        }
                        let scheduled = UTCCalendar.date(
                            year: local.year!, month: local.month!, day: local.day!, hour: hour, minute: minute, second: 0)
                        let atGapEnd = zone.secondsFromGMT(for: next.addingTimeInterval(-1)) < zone.secondsFromGMT(for: next)
                        #expect(
                            atGapEnd && shown(next.addingTimeInterval(-1)) < scheduled && scheduled < shown(next),
                            "\(name) \(hour):\(minute): fired at \(local)")
                        gaps += 1
                    }
                    if let lastDay {
                        // No local day is skipped (a day of 23 or 25 hours included).
                        #expect(day - lastDay == 1, "\(name) \(hour):\(minute): a day skipped before \(local)")
                    }
                    lastDay = day
                    cursor = next
                    checked += 1
                }
            }
        }
        #expect(checked > 150_000 && gaps > 50, "checked \(checked), gap fires \(gaps)")
    }

    /// Quartz 2.3.2 with `setTimeZone` (`scripts/quartz-oracle/generate`). Where no change of
    /// offset is near, the fires must be equal. At a change, Quartz does what the README says
    /// tapline does not: it skips a time that falls in a spring-forward gap (no fire that day) and
    /// fires a repeated time at its second occurrence. Every difference must be one of those two.
    @Test("Quartz with setTimeZone: equal away from changes; at changes, only the documented differences")
    func matchesQuartz() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/quartz-zoned.tsv")
        let text = try String(contentsOf: url, encoding: .utf8)
        var equal = 0
        var gapFires = 0
        var firstOccurrences = 0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "\t").map(String.init)
            try #require(parts.count == 4)
            let (expression, start, zoneName) = (parts[0], parts[1], parts[2])
            let quartz = parts[3] == "never" ? [] : parts[3].split(separator: " ").map { Self.at(String($0)) }
            let zone = try #require(CronTimeZone.named(zoneName))
            let ours = try Self.fires(expression, zoneName, after: start, count: quartz.count + 4).map(Self.at)
            guard let horizon = quartz.last else {
                #expect(ours.isEmpty, "\(line)")
                continue
            }
            let mine = ours.filter { $0 <= horizon }
            if mine == quartz {
                equal += 1
                continue
            }
            let wall = { (t: Date) in t.addingTimeInterval(TimeInterval(zone.secondsFromGMT(for: t))) }
            for t in Set(mine).subtracting(quartz) {
                if zone.secondsFromGMT(for: t.addingTimeInterval(-1)) < zone.secondsFromGMT(for: t) {
                    gapFires += 1  // tapline fires a swallowed time at the gap's end; Quartz skips it.
                } else if quartz.contains(where: { $0 > t && wall($0) == wall(t) }) {
                    firstOccurrences += 1  // tapline fires a repeated time first; Quartz second.
                } else {
                    Issue.record("\(expression) in \(zoneName) from \(start): tapline fires \(Timestamp.format(t)), Quartz does not")
                }
            }
            for t in Set(quartz).subtracting(mine) where !mine.contains(where: { $0 < t && wall($0) == wall(t) }) {
                Issue.record("\(expression) in \(zoneName) from \(start): Quartz fires \(Timestamp.format(t)), tapline does not")
            }
        }
        #expect(
            equal > 2000 && gapFires > 20 && firstOccurrences > 20, "equal \(equal), gap \(gapFires), first occurrence \(firstOccurrences)")
    }
}
