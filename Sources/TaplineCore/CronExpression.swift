/// A Quartz cron expression, evaluated in UTC.
///
/// Fields, in order: seconds, minutes, hours, day-of-month, month, day-of-week and an optional year.
/// Exactly one of day-of-month and day-of-week is `?`. The value sets are bit masks so that finding
/// the next fire time is a handful of bit scans per calendar unit, not a second-by-second search.
/// Parsing lives in `CronExpression+Parser.swift`, evaluation in `CronExpression+NextFire.swift`.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The expression as the user wrote it (surrounding whitespace removed).
    public let text: String
    var seconds: UInt64
    var minutes: UInt64
    var hours: UInt64
    /// Bit `m` set for month `m` (1…12).
    var months: UInt64
    var days: DayRule
    /// `nil` means every year in `CronExpression.years`.
    var years: YearSet?

    /// The years a cron expression can name. Quartz stops searching a century or so ahead; a
    /// fixed bound keeps the result independent of the current date.
    public static let years = 1970...2199

    public var description: String { text }

    /// How the day of a month is chosen: by day-of-month or by day-of-week (never both).
    enum DayRule: Sendable, Hashable {
        /// Bit `d` set for day `d` (1…31). Days beyond the month's length never match.
        case daysOfMonth(UInt64)
        /// `L`, `L-n`, `LW`, `L-nW`: the last day of the month minus `offset`, moved to the nearest
        /// weekday of the same month when `nearestWeekday`.
        case lastDayOfMonth(offset: Int, nearestWeekday: Bool)
        /// `nW`: the weekday nearest to day `n`, never leaving the month.
        case nearestWeekday(day: Int)
        /// Bit `w` set for weekday `w` (1 = Sunday … 7 = Saturday).
        case daysOfWeek(UInt64)
        /// `wL`: the last weekday `w` of the month.
        case lastWeekdayOfMonth(Int)
        /// `w#n`: the `n`th weekday `w` of the month (skipped in months that have no `n`th).
        case nthWeekdayOfMonth(weekday: Int, n: Int)
    }

    /// A set of years within `CronExpression.years`.
    struct YearSet: Sendable, Hashable {
        private var words: [UInt64]

        init() { words = Array(repeating: 0, count: (CronExpression.years.count + 63) / 64) }

        mutating func insert(_ year: Int) {
            guard CronExpression.years.contains(year) else { return }
            let i = year - CronExpression.years.lowerBound
            words[i / 64] |= 1 << UInt64(i % 64)
        }

        func contains(_ year: Int) -> Bool {
            guard CronExpression.years.contains(year) else { return false }
            let i = year - CronExpression.years.lowerBound
            return words[i / 64] & (1 << UInt64(i % 64)) != 0
        }
    }
}

extension UInt64 {
    /// The lowest set bit at or above `bit`, if any.
    func firstBit(from bit: Int) -> Int? {
        guard bit < 64 else { return nil }
        let masked = self & (bit <= 0 ? ~0 : ~((1 << UInt64(bit)) - 1))
        return masked == 0 ? nil : masked.trailingZeroBitCount
    }
}
