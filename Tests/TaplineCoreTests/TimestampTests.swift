import Foundation
import Testing

@testable import TaplineCore

@Suite("Timestamps")
struct TimestampTests {
    let reference = UTCCalendar.date(year: 2019, month: 6, day: 1, hour: 12, minute: 30, second: 15)

    @Test(
        "ISO 8601 forms Stitch clients send all parse to the same instant",
        arguments: [
            "2019-06-01T12:30:15Z", "2019-06-01T12:30:15z", "2019-06-01t12:30:15Z", "2019-06-01 12:30:15Z",
            "2019-06-01T14:30:15+02:00", "2019-06-01T14:30:15+0200", "2019-06-01T14:30:15+02",
            "2019-06-01T07:30:15-05:00", "2019-06-01T12:30:15", "2019-06-01T12:30:15.000Z",
        ])
    func parsesVariants(_ text: String) {
        #expect(Timestamp.parse(text) == reference)
    }

    @Test("fractions, minutes-only times and dates")
    func partialForms() {
        #expect(Timestamp.parse("2019-06-01T12:30Z") == UTCCalendar.date(year: 2019, month: 6, day: 1, hour: 12, minute: 30))
        #expect(Timestamp.parse("2019-06-01") == UTCCalendar.date(year: 2019, month: 6, day: 1))
        let precise = Timestamp.parse("2019-01-30T18:16:37.205Z")
        #expect(precise.map(Timestamp.formatMilliseconds) == "2019-01-30T18:16:37.205Z")
        #expect(Timestamp.parse("2019-01-30T18:16:37.2056789Z").map(Timestamp.formatMilliseconds) == "2019-01-30T18:16:37.205Z")
    }

    @Test(
        "malformed or impossible timestamps are refused",
        arguments: [
            "", "now", "2019-06-01T", "2019-6-01T00:00:00Z", "2019-02-29T00:00:00Z", "2019-13-01T00:00:00Z",
            "2019-00-10T00:00:00Z", "2019-06-31T00:00:00Z", "2019-06-01T24:00:00Z", "2019-06-01T23:60:00Z",
            "2019-06-01T23:59:60Z", "2019-06-01T12:00:00+25:00", "2019-06-01T12:00:00Zjunk", "1969-12-31T23:59:59Z",
            "2019-06-01T12:00:00.Z", "+2019-06-01T12:00:00Z", "2019-06-01T12:00:00 +02:00", "２０１９-06-01T00:00:00Z",
        ])
    func refusesGarbage(_ text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test("leap days parse; output formats are fixed width")
    func formats() {
        let leap = Timestamp.parse("2024-02-29T23:59:59Z")
        #expect(leap.map(Timestamp.format) == "2024-02-29T23:59:59Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0.999)) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.formatMilliseconds(Date(timeIntervalSince1970: 1.5)) == "1970-01-01T00:00:01.500Z")
        #expect(Timestamp.parse("2019-06-01T14:30:15.9+02:00").map(Timestamp.format) == "2019-06-01T12:30:15Z")
    }

    @Test("calendar arithmetic agrees with Foundation over four centuries of days")
    func calendarMatchesFoundation() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for day in stride(from: 0, to: 146_097 * 2, by: 97) {
            let date = Date(timeIntervalSince1970: Double(day) * 86_400 + 3_723)
            let mine = UTCCalendar.components(of: date)
            let theirs = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
            #expect(mine.year == theirs.year && mine.month == theirs.month && mine.day == theirs.day)
            #expect(mine.hour == 1 && mine.minute == 2 && mine.second == 3)
            #expect(UTCCalendar.weekday(year: mine.year, month: mine.month, day: mine.day) == theirs.weekday)
        }
    }
}

@Suite("paused_at instants")
struct PauseInstantTests {
    @Test("every ISO 8601 instant: the basic form, offsets, and years before 1970; no offset means UTC")
    func instants() {
        let june = Timestamp.parse("2019-06-01T00:00:00Z")
        #expect(Timestamp.parseInstant("20190601T000000Z") == june)
        #expect(Timestamp.parseInstant("20190601T0200+0200") == june)
        #expect(Timestamp.parseInstant("20190601") == june)
        #expect(Timestamp.parseInstant("2019-06-01T00:00:00") == june)
        #expect(Timestamp.parseInstant("1969-07-20T20:17:00Z").map(Timestamp.format) == "1969-07-20T20:17:00Z")
        #expect(Timestamp.parseInstant("0001-01-01T00:00:00Z") != nil)
        for bad in ["2019060", "20190601T00", "20190601X0000", "2019-0601", "junk", "20191301T000000Z", ""] {
            #expect(Timestamp.parseInstant(bad) == nil, "\(bad)")
        }
        // Other timestamps keep their range.
        #expect(Timestamp.parse("1969-07-20T20:17:00Z") == nil)
    }
}
