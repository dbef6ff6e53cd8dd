import Foundation
import TaplineCore

/// A time given on the command line: an ISO 8601 instant, or a span back from now (`90s`, `30m`,
/// `12h`, `1d`, `2w`), as in `tapline jobs list 1 --since 1d`.
enum RelativeTime {
    static let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]

    /// The instant `text` names, or nil when it is neither form.
    static func parse(_ text: String, now: Date = Date()) -> Date? {
        if let unit = text.last, let seconds = units[unit], let count = Double(text.dropLast()), count >= 0,
            text.dropLast().allSatisfy({ $0.isNumber || $0 == "." })
        {
            return now.addingTimeInterval(-count * seconds)
        }
        return Timestamp.parse(text)
    }
}
