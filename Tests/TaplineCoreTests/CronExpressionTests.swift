import Foundation
import Testing

@testable import TaplineCore

/// Hand-checked sequences for the cases people ask about; `QuartzDifferentialTests` covers the
/// grammar against Quartz itself.
@Suite("Quartz cron expressions")
struct CronExpressionTests {
    func fires(_ expression: String, after: String, count: Int = 4) throws -> [String] {
        let cron = try CronExpression(parsing: expression)
        return cron.nextFires(after: Timestamp.parse(after)!, count: count).map(Timestamp.format)
    }

    @Test("weekdays at noon, Stitch's own example")
    func weekdaysAtNoon() throws {
        // 2020-06-19 was a Friday.
        #expect(
            try fires("0 0 12 ? * MON-FRI *", after: "2020-06-19T12:00:00Z")
                == ["2020-06-22T12:00:00Z", "2020-06-23T12:00:00Z", "2020-06-24T12:00:00Z", "2020-06-25T12:00:00Z"])
    }

    @Test("strictly after: an instant on a fire time is not returned again")
    func strictlyAfter() throws {
        #expect(try fires("0 * * ? * *", after: "2024-01-01T00:00:00Z", count: 2) == ["2024-01-01T00:01:00Z", "2024-01-01T00:02:00Z"])
        #expect(try fires("* * * ? * *", after: "2024-01-01T00:00:00Z", count: 2) == ["2024-01-01T00:00:01Z", "2024-01-01T00:00:02Z"])
    }

    @Test("L: last day of month, through a leap February")
    func lastDay() throws {
        #expect(
            try fires("0 0 0 L * ?", after: "2024-01-15T00:00:00Z")
                == ["2024-01-31T00:00:00Z", "2024-02-29T00:00:00Z", "2024-03-31T00:00:00Z", "2024-04-30T00:00:00Z"])
        #expect(try fires("0 0 0 L-3 2 ?", after: "2023-01-01T00:00:00Z", count: 2) == ["2023-02-25T00:00:00Z", "2024-02-26T00:00:00Z"])
    }

    @Test("W and LW never leave the month")
    func nearestWeekday() throws {
        // 2022-10-01 was a Saturday: 1W moves forward to Monday the 3rd, not back into September.
        #expect(try fires("0 0 0 1W 10 ?", after: "2022-01-01T00:00:00Z", count: 1) == ["2022-10-03T00:00:00Z"])
        // 2022-07-31 was a Sunday: LW moves back to Friday the 29th.
        #expect(try fires("0 0 0 LW 7 ?", after: "2022-01-01T00:00:00Z", count: 1) == ["2022-07-29T00:00:00Z"])
        // 2022-05-15 was a Sunday: 15W is Monday the 16th.
        #expect(try fires("0 0 0 15W 5 ?", after: "2022-01-01T00:00:00Z", count: 1) == ["2022-05-16T00:00:00Z"])
    }

    @Test("nth and last weekday of the month")
    func nthWeekday() throws {
        // Third Thursday (5#3) of November 2026 is the 19th; of December, the 17th.
        #expect(try fires("0 0 9 ? * 5#3", after: "2026-11-01T00:00:00Z", count: 2) == ["2026-11-19T09:00:00Z", "2026-12-17T09:00:00Z"])
        // Last Friday (6L).
        #expect(try fires("0 0 9 ? * 6L", after: "2026-11-01T00:00:00Z", count: 2) == ["2026-11-27T09:00:00Z", "2026-12-25T09:00:00Z"])
        // A fifth Monday exists only in some months.
        #expect(
            try fires("0 0 0 ? * MON#5", after: "2026-01-01T00:00:00Z", count: 3) == [
                "2026-03-30T00:00:00Z", "2026-06-29T00:00:00Z", "2026-08-31T00:00:00Z",
            ])
    }

    @Test("February 29th only in leap years; the year field limits and ends a schedule")
    func leapYearsAndYearField() throws {
        #expect(try fires("0 0 0 29 2 ?", after: "2025-01-01T00:00:00Z", count: 2) == ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"])
        #expect(
            try fires("0 0 0 1 1 ? 2027,2029", after: "2026-06-01T00:00:00Z", count: 3) == ["2027-01-01T00:00:00Z", "2029-01-01T00:00:00Z"])
        #expect(try fires("0 0 0 30 2 ?", after: "2026-06-01T00:00:00Z").isEmpty)
    }

    @Test("steps over ranges and wrap-around ranges")
    func stepsAndWraps() throws {
        #expect(
            try fires("0 10-40/15 * ? * *", after: "2026-01-01T00:00:00Z") == [
                "2026-01-01T00:10:00Z", "2026-01-01T00:25:00Z", "2026-01-01T00:40:00Z", "2026-01-01T01:10:00Z",
            ])
        #expect(
            try fires("0 0 22-1 ? * *", after: "2026-01-01T12:00:00Z") == [
                "2026-01-01T22:00:00Z", "2026-01-01T23:00:00Z", "2026-01-02T00:00:00Z", "2026-01-02T01:00:00Z",
            ])
        #expect(
            try fires("0 0 0 ? * FRI-MON", after: "2026-11-26T00:00:00Z") == [
                "2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z", "2026-11-30T00:00:00Z",
            ])
    }

    @Test(
        "invalid expressions are refused with Quartz's reason",
        arguments: [
            ("* * * * * *", "Support for specifying both a day-of-week AND a day-of-month parameter is not implemented."),
            ("0 0 0 ? * ?", "'?' can only be specfied for Day-of-Month -OR- Day-of-Week."),
            ("0 0 0 * *", "Unexpected end of expression."),
            ("0 0 24 * * ?", "Hour values must be between 0 and 23"),
            ("60 0 0 * * ?", "Minute and Second values must be between 0 and 59"),
            ("0 0 0 ? * 5#6", "A numeric value between 1 and 5 must follow the '#' option"),
            ("0 0 0 ? * MOO", "Invalid Day-of-Week value: 'MOO'"),
            ("0 0 0 L,15 * ?", "Support for specifying 'L' and 'LW' with other days of the month is not implemented"),
        ])
    func refusals(_ expression: String, _ message: String) {
        #expect(throws: CronParseError(message: message)) { try CronExpression(parsing: expression) }
    }

    @Test("lowercase, names, full names and extra whitespace")
    func spellings() throws {
        let a = try CronExpression(parsing: "  0 0 12 ? jan,jul mon  ")
        let b = try CronExpression(parsing: "0 0 12 ? JANUARY,JULY MONDAY")
        let c = try CronExpression(parsing: "0\t0   12 ? 1,7 2")
        let start = Timestamp.parse("2026-01-01T00:00:00Z")!
        #expect(a.nextFires(after: start, count: 5) == b.nextFires(after: start, count: 5))
        #expect(a.nextFires(after: start, count: 5) == c.nextFires(after: start, count: 5))
        #expect(a.text == "0 0 12 ? jan,jul mon")
    }
}
