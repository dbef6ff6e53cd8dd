import Foundation
import TaplineCore

/// How the console writes times and durations on the server: UTC with the zone named, and
/// relative to the page's render ("in 12 min", "3 h ago"). The page's script rewrites each
/// `<time>` into the viewer's own zone (naming it) unless the UTC switch is on.
enum ConsoleTime {
    /// `2026-12-07 14:05 UTC`.
    static func utc(_ date: Date) -> String {
        let c = UTCCalendar.components(of: date)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(c.year)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) UTC"
    }

    /// "in 12 min", "3 h ago", "now".
    static func relative(_ date: Date, now: Date) -> String {
        let seconds = date.timeIntervalSince(now)
        let magnitude = abs(seconds)
        let text: String
        if magnitude < 45 { return seconds >= 0 ? "in a few seconds" : "just now" }
        if magnitude < 3600 {
            text = "\(Int((magnitude / 60).rounded())) min"
        } else if magnitude < 86_400 * 2 {
            let hours = magnitude / 3600
            text =
                hours < 10 ? "\((hours * 10).rounded() / 10) h".replacingOccurrences(of: ".0 h", with: " h") : "\(Int(hours.rounded())) h"
        } else {
            text = "\(Int((magnitude / 86_400).rounded())) days"
        }
        return seconds >= 0 ? "in \(text)" : "\(text) ago"
    }

    /// "4.2 s", "12 min 3 s", "2 h 5 min".
    static func duration(_ seconds: TimeInterval) -> String {
        if seconds < 10 { return "\((seconds * 10).rounded() / 10) s" }
        if seconds < 60 { return "\(Int(seconds.rounded())) s" }
        let total = Int(seconds.rounded())
        if total < 3600 { return "\(total / 60) min \(total % 60) s" }
        return "\(total / 3600) h \((total % 3600) / 60) min"
    }

    /// A `<time>` element's pieces: the machine-readable instant, the UTC text and the relative one.
    struct Stamp: Sendable {
        var iso: String
        var text: String
        var relative: String
    }

    static func stamp(_ date: Date?, now: Date) -> Stamp? {
        guard let date else { return nil }
        return Stamp(iso: Timestamp.formatMilliseconds(date), text: utc(date), relative: relative(date, now: now))
    }
}
