/// Why a cron expression was refused. The message follows Quartz's wording where Quartz has one,
/// because Stitch passes Quartz's message through in its `InvalidCronExpression` error.
public struct CronParseError: Error, Equatable, Sendable {
    public let message: String
}

extension CronExpression {
    /// The seven fields of a Quartz expression, with their value ranges.
    enum Field: Int, CaseIterable {
        case second, minute, hour, dayOfMonth, month, dayOfWeek, year

        var range: ClosedRange<Int> {
            switch self {
            case .second, .minute: 0...59
            case .hour: 0...23
            case .dayOfMonth: 1...31
            case .month: 1...12
            case .dayOfWeek: 1...7
            case .year: CronExpression.years
            }
        }

        /// The largest increment Quartz accepts after `/`.
        var maxIncrement: Int {
            switch self {
            case .second, .minute: 59
            case .hour: 23
            case .dayOfMonth: 31
            case .month: 12
            case .dayOfWeek: 7
            case .year: CronExpression.years.count
            }
        }

        /// The values a field may name. Years are not range-checked (as in Quartz): a year outside
        /// `CronExpression.years` simply never fires.
        var parseRange: ClosedRange<Int> { self == .year ? 0...9999 : range }

        var rangeMessage: String {
            switch self {
            case .second, .minute: "Minute and Second values must be between 0 and 59"
            case .hour: "Hour values must be between 0 and 23"
            case .dayOfMonth: "Day of month values must be between 1 and 31"
            case .month: "Month values must be between 1 and 12"
            case .dayOfWeek: "Day-of-Week values must be between 1 and 7"
            case .year: "Year values must be between \(CronExpression.years.lowerBound) and \(CronExpression.years.upperBound)"
            }
        }
    }

    /// Month and day names: the three-letter forms, and the full English names (Quartz reads only
    /// the first three letters of a name, so `JANUARY` means `JAN` there too).
    private static let monthNames = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ]
    private static let monthFullNames = [
        "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST", "SEPTEMBER", "OCTOBER",
        "NOVEMBER", "DECEMBER",
    ]
    private static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
    private static let dayFullNames = ["SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"]

    /// Parses a 6- or 7-field Quartz expression. Names and letters are case-insensitive.
    public init(parsing source: String) throws(CronParseError) {
        let trimmed = source.trimmingWhitespace()
        let tokens = trimmed.uppercased().split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard tokens.count >= 6 else {
            throw CronParseError(message: "Unexpected end of expression.")
        }
        guard tokens.count <= 7 else {
            throw CronParseError(
                message: "Too many fields: a cron expression has 6 or 7 fields (sec min hour day-of-month month day-of-week [year]).")
        }
        let domToken = tokens[3]
        let dowToken = tokens[5]
        let domUnspecified = domToken == "?"
        let dowUnspecified = dowToken == "?"
        if domUnspecified && dowUnspecified {
            throw CronParseError(message: "'?' can only be specfied for Day-of-Month -OR- Day-of-Week.")
        }
        if !domUnspecified && !dowUnspecified {
            throw CronParseError(
                message: "Support for specifying both a day-of-week AND a day-of-month parameter is not implemented.")
        }
        self.text = trimmed
        self.seconds = try Self.parseMask(tokens[0], .second)
        self.minutes = try Self.parseMask(tokens[1], .minute)
        self.hours = try Self.parseMask(tokens[2], .hour)
        self.months = try Self.parseMask(tokens[4], .month)
        if domUnspecified {
            self.days = try Self.parseDayOfWeek(dowToken)
        } else {
            self.days = try Self.parseDayOfMonth(domToken)
        }
        if tokens.count == 7, tokens[6] != "*" {
            var set = YearSet()
            try Self.forEachValue(tokens[6], .year) { set.insert($0) }
            self.years = set
        } else {
            self.years = nil
        }
    }

    // MARK: - Fields

    private static func parseMask(_ token: String, _ field: Field) throws(CronParseError) -> UInt64 {
        var mask: UInt64 = 0
        try forEachValue(token, field) { mask |= 1 << UInt64($0) }
        return mask
    }

    private static func parseDayOfMonth(_ token: String) throws(CronParseError) -> DayRule {
        if token.contains("L") {
            guard !token.contains(",") else {
                throw CronParseError(message: "Support for specifying 'L' and 'LW' with other days of the month is not implemented")
            }
            guard token.hasPrefix("L") else {
                throw CronParseError(message: "'L' option is not valid here: '\(token)'")
            }
            var rest = Substring(token.dropFirst())
            var nearest = false
            if rest.hasSuffix("W") {
                nearest = true
                rest = rest.dropLast()
            }
            var offset = 0
            if !rest.isEmpty {
                guard rest.hasPrefix("-"), let n = Int(rest.dropFirst()), rest.dropFirst().allSatisfy(\.isASCIIDigit)
                else {
                    throw CronParseError(message: "Illegal characters after 'L': '\(token)'")
                }
                guard n <= 30 else { throw CronParseError(message: "Offset from last day must be <= 30") }
                offset = n
            }
            return .lastDayOfMonth(offset: offset, nearestWeekday: nearest)
        }
        if token.contains("W") {
            guard !token.contains(","), !token.contains("-"), !token.contains("/") else {
                throw CronParseError(message: "The 'W' option can only be used with a single day of the month: '\(token)'")
            }
            guard token.hasSuffix("W"), let day = Int(token.dropLast()), token.dropLast().allSatisfy(\.isASCIIDigit)
            else {
                throw CronParseError(message: "'W' option is not valid here: '\(token)'")
            }
            guard (1...31).contains(day) else {
                throw CronParseError(
                    message: "The 'W' option does not make sense with values larger than 31 (max number of days in a month)")
            }
            return .nearestWeekday(day: day)
        }
        return .daysOfMonth(try parseMask(token, .dayOfMonth))
    }

    private static func parseDayOfWeek(_ token: String) throws(CronParseError) -> DayRule {
        if token.contains("#") {
            let items = token.split(separator: ",", omittingEmptySubsequences: false)
            let nthItems = items.filter { $0.contains("#") }
            guard nthItems.count == 1, nthItems[0].split(separator: "#", omittingEmptySubsequences: false).count == 2
            else {
                throw CronParseError(message: "Support for specifying multiple \"nth\" days is not implemented.")
            }
            let parts = nthItems[0].split(separator: "#", omittingEmptySubsequences: false)
            var weekday = try dayOfWeekValue(String(parts[0]))
            guard let n = Int(parts[1]), parts[1].allSatisfy(\.isASCIIDigit), (1...5).contains(n) else {
                throw CronParseError(message: "A numeric value between 1 and 5 must follow the '#' option")
            }
            // Quartz applies the `#` to the smallest weekday of the whole field (`2#1,3` is `2#1`,
            // `4,2#1` is `2#1` too); tapline does the same.
            let others = items.filter { !$0.contains("#") }.joined(separator: ",")
            if !others.isEmpty {
                let mask = try parseMask(others, .dayOfWeek)
                if let lowest = mask.firstBit(from: 1) { weekday = min(weekday, lowest) }
            }
            return .nthWeekdayOfMonth(weekday: weekday, n: n)
        }
        if token.contains("L") {
            if token == "L" { return .daysOfWeek(1 << 7) }  // `L` alone means Saturday (7), as in Quartz.
            guard !token.contains(",") else {
                throw CronParseError(message: "Support for specifying 'L' with other days of the week is not implemented")
            }
            guard token.hasSuffix("L"), !token.dropLast().contains("L") else {
                throw CronParseError(message: "'L' option is not valid here: '\(token)'")
            }
            return .lastWeekdayOfMonth(try dayOfWeekValue(String(token.dropLast())))
        }
        return .daysOfWeek(try parseMask(token, .dayOfWeek))
    }

    private static func dayOfWeekValue(_ text: String) throws(CronParseError) -> Int {
        let value = try parseValue(text, .dayOfWeek)
        guard Field.dayOfWeek.range.contains(value) else {
            throw CronParseError(message: Field.dayOfWeek.rangeMessage)
        }
        return value
    }

    /// Expands one field (a comma-separated list of `*`, `a`, `a-b`, each optionally `/step`)
    /// into its values. A range whose end is below its start wraps around (`FRI-MON`, `22-2`),
    /// as Quartz does; years never wrap.
    private static func forEachValue(
        _ token: String, _ field: Field, _ body: (Int) -> Void
    ) throws(CronParseError) {
        if token == "?" {
            throw CronParseError(message: "'?' can only be specfied for Day-of-Month or Day-of-Week.")
        }
        for item in token.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else {
                throw CronParseError(message: "Empty value in list: '\(token)'")
            }
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2 else {
                throw CronParseError(message: "Unexpected character '/' in '\(item)'")
            }
            var step = 1
            var hasStep = false
            if stepParts.count == 2 {
                hasStep = true
                guard !stepParts[1].isEmpty, stepParts[1].allSatisfy(\.isASCIIDigit), let n = Int(stepParts[1])
                else {
                    throw CronParseError(message: "'/' must be followed by an integer.")
                }
                guard n >= 1 else { throw CronParseError(message: "Increment must be at least 1: \(n)") }
                guard n <= field.maxIncrement else {
                    throw CronParseError(message: "Increment > \(field.maxIncrement + 1) : \(n)")
                }
                step = n
            }
            let base = stepParts[0]
            var start: Int
            var end: Int
            if base == "*" || base.isEmpty {
                guard !base.isEmpty || hasStep else {
                    throw CronParseError(message: "Empty value in '\(token)'")
                }
                start = field.range.lowerBound
                end = field.range.upperBound
            } else {
                let bounds = base.split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2, !bounds.contains(where: \.isEmpty) else {
                    throw CronParseError(message: "Illegal range: '\(base)'")
                }
                let named = bounds.map { $0.first?.isLetter == true }
                guard !named.contains(true) || named.allSatisfy({ $0 }) else {
                    throw CronParseError(message: "A range must use names at both ends or numbers at both ends: '\(base)'")
                }
                if named.contains(true) {
                    // Quartz ignores a step written after a month or day name (`MON-FRI/2` is
                    // Monday to Friday); tapline reads it the same way so schedules match Stitch's.
                    step = 1
                    hasStep = false
                }
                start = try parseValue(String(bounds[0]), field)
                if bounds.count == 2 {
                    end = try parseValue(String(bounds[1]), field)
                } else {
                    end = hasStep ? field.range.upperBound : start
                }
            }
            guard field.parseRange.contains(start), field.parseRange.contains(end) else {
                throw CronParseError(message: field.rangeMessage)
            }
            if end < start {
                guard field != .year else {
                    throw CronParseError(message: "Start year must be less than stop year")
                }
                let span = field.range.count
                var i = start
                while i <= end + span {
                    let wrapped = (i - field.range.lowerBound) % span + field.range.lowerBound
                    body(wrapped)
                    i += step
                }
            } else {
                var i = start
                while i <= end {
                    body(i)
                    i += step
                }
            }
        }
    }

    /// A number, or a three-letter month or day name where the field allows names.
    private static func parseValue(_ text: String, _ field: Field) throws(CronParseError) -> Int {
        if !text.isEmpty, text.allSatisfy(\.isASCIIDigit) {
            guard text.count <= 4, let n = Int(text) else { throw CronParseError(message: field.rangeMessage) }
            return n
        }
        switch field {
        case .month:
            if let i = monthNames.firstIndex(of: text) ?? monthFullNames.firstIndex(of: text) { return i + 1 }
            throw CronParseError(message: "Invalid Month value: '\(text)'")
        case .dayOfWeek:
            if let i = dayNames.firstIndex(of: text) ?? dayFullNames.firstIndex(of: text) { return i + 1 }
            throw CronParseError(message: "Invalid Day-of-Week value: '\(text)'")
        default:
            throw CronParseError(message: "Illegal characters for this position: '\(text)'")
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
