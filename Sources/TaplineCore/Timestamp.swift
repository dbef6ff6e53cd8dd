import Foundation

/// ISO 8601 parsing and the two output formats of the Stitch wire contract.
///
/// Stitch emits every timestamp as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds) except `anchor_time`,
/// which it echoes with milliseconds. Clients parse these with strict patterns, so formatting is done
/// by hand here rather than through a locale-sensitive formatter. Requests only need to be
/// "ISO 8601-compliant", so parsing is lenient about the offset (`Z`, `±HH:MM`, `±HHMM`, `±HH`, or
/// none, read as UTC), the separator (`T`, `t` or a space) and fractional seconds.
public enum Timestamp {
    /// Years outside this range are refused: they are never meant, and they would overflow the
    /// fixed-width text format that keeps stored timestamps sortable as text.
    public static let validYears = 1970...9999

    /// `YYYY-MM-DDTHH:MM:SSZ`, the format of every timestamp tapline emits.
    public static func format(_ date: Date) -> String {
        render(UTCCalendar.components(of: date), milliseconds: false)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` of the first whole second not before `date`: for an instant that
    /// pollers compare, in whole seconds, with the same instant read elsewhere with its
    /// milliseconds (a load's `last_batch_loaded_at` against the extraction log's last line),
    /// so that the whole second never reads as earlier.
    public static func formatRoundingUp(_ date: Date) -> String {
        format(Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.up)))
    }

    /// `YYYY-MM-DDTHH:MM:SS.sssZ`, the format Stitch uses for `anchor_time`.
    public static func formatMilliseconds(_ date: Date) -> String {
        render(UTCCalendar.components(of: date), milliseconds: true)
    }

    /// Writes the digits directly: formatting is on the scheduler's hot path (every claim stores
    /// three timestamps), where `String(format:)` cost more than the SQL.
    private static func render(_ c: UTCCalendar.Components, milliseconds: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var v = max(0, value)
            while divisor > 0 {
                bytes.append(UInt8(48 + (v / divisor) % 10))
                v %= divisor
                divisor /= 10
            }
        }
        digits(c.year, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(c.month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(c.day, 2)
        bytes.append(UInt8(ascii: "T"))
        digits(c.hour, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(c.minute, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(c.second, 2)
        if milliseconds {
            bytes.append(UInt8(ascii: "."))
            digits(c.millisecond, 3)
        }
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses any ISO 8601 instant, for `paused_at`, where Stitch says every ISO 8601 value
    /// pauses: the extended form as `parse` reads it, the basic form (`20190601T000000Z`,
    /// `20190601T0000+0200`, `20190601`), and any year from 0001 to 9999 (an instant before 1970
    /// pauses like any other). A time without an offset is UTC.
    public static func parseInstant(_ text: String) -> Date? {
        parse(extendedForm(of: text) ?? text, years: 1...9999)
    }

    /// `YYYYMMDD[THHMM[SS][.fff]][Z|±HH[MM]]` rewritten as `YYYY-MM-DD[THH:MM[:SS][.fff]][offset]`;
    /// `nil` when the text is not in the basic form.
    static func extendedForm(of text: String) -> String? {
        let b = Array(text.utf8)
        func isDigit(_ i: Int) -> Bool { i < b.count && b[i] >= 48 && b[i] <= 57 }
        guard b.count >= 8, (0..<8).allSatisfy(isDigit), !isDigit(8), b.count == 8 || b[8] != UInt8(ascii: "-") else { return nil }
        var out = Array(b[0..<4]) + [UInt8(ascii: "-")] + Array(b[4..<6]) + [UInt8(ascii: "-")] + Array(b[6..<8])
        var i = 8
        guard i < b.count else { return String(decoding: out, as: UTF8.self) }
        guard b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: "t") else { return nil }
        out.append(UInt8(ascii: "T"))
        i += 1
        guard (i..<(i + 4)).allSatisfy(isDigit) else { return nil }
        out += Array(b[i..<(i + 2)]) + [UInt8(ascii: ":")] + Array(b[(i + 2)..<(i + 4)])
        i += 4
        if isDigit(i) {
            guard isDigit(i + 1) else { return nil }
            out += [UInt8(ascii: ":")] + Array(b[i..<(i + 2)])
            i += 2
        }
        out += b[i...]
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses an ISO 8601 date-time. Returns `nil` for anything that is not one, including
    /// impossible dates such as `2021-02-30` and years outside `years`.
    public static func parse(_ text: String, years: ClosedRange<Int> = validYears) -> Date? {
        var s = Scanner(Array(text.utf8))
        guard let year = s.digits(exactly: 4), s.take(UInt8(ascii: "-")),
            let month = s.digits(exactly: 2), s.take(UInt8(ascii: "-")),
            let day = s.digits(exactly: 2)
        else { return nil }
        var hour = 0
        var minute = 0
        var second = 0
        var nanos = 0
        var offsetSeconds = 0
        if !s.atEnd {
            guard s.take(UInt8(ascii: "T")) || s.take(UInt8(ascii: "t")) || s.take(UInt8(ascii: " ")),
                let h = s.digits(exactly: 2), s.take(UInt8(ascii: ":")), let m = s.digits(exactly: 2)
            else { return nil }
            hour = h
            minute = m
            if s.take(UInt8(ascii: ":")) {
                guard let sec = s.digits(exactly: 2) else { return nil }
                second = sec
                if s.take(UInt8(ascii: ".")) || s.take(UInt8(ascii: ",")) {
                    guard let fraction = s.fraction() else { return nil }
                    nanos = fraction
                }
            }
            if s.take(UInt8(ascii: "Z")) || s.take(UInt8(ascii: "z")) {
                // UTC
            } else if let sign = s.sign() {
                guard let oh = s.digits(exactly: 2), oh <= 23 else { return nil }
                var om = 0
                if s.take(UInt8(ascii: ":")) {
                    guard let m = s.digits(exactly: 2) else { return nil }
                    om = m
                } else if !s.atEnd {
                    guard let m = s.digits(exactly: 2) else { return nil }
                    om = m
                }
                guard om <= 59 else { return nil }
                offsetSeconds = sign * (oh * 3600 + om * 60)
            }
            guard s.atEnd else { return nil }
        }
        guard years.contains(year), (1...12).contains(month),
            (1...UTCCalendar.daysIn(month: month, year: year)).contains(day),
            (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second)
        else { return nil }
        let days = UTCCalendar.daysSinceEpoch(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1e9)
    }
}

/// A byte cursor for the hand-written ISO 8601 parser.
private struct Scanner {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index == bytes.count }

    mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    mutating func digits(exactly count: Int) -> Int? {
        guard index + count <= bytes.count else { return nil }
        var value = 0
        for i in index..<(index + count) {
            let b = bytes[i]
            guard b >= 48, b <= 57 else { return nil }
            value = value * 10 + Int(b - 48)
        }
        index += count
        return value
    }

    /// Fractional seconds as nanoseconds; at least one digit, extra precision is truncated.
    mutating func fraction() -> Int? {
        var value = 0
        var count = 0
        while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
            if count < 9 { value = value * 10 + Int(bytes[index] - 48) }
            count += 1
            index += 1
        }
        guard count > 0 else { return nil }
        for _ in count..<max(count, 9) { value *= 10 }
        return value
    }

    mutating func sign() -> Int? {
        if take(UInt8(ascii: "+")) { return 1 }
        if take(UInt8(ascii: "-")) { return -1 }
        return nil
    }
}
