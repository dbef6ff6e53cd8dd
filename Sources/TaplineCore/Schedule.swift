import Foundation

/// A source's replication schedule, resolved from its scheduling properties.
///
/// Precedence is Stitch's: a cron expression overrides frequency and anchor; an anchor is
/// effective only for frequencies of 60 minutes or more; without either, the plain interval runs
/// from the start of the previous job.
public enum Schedule: Sendable, Hashable {
    /// Every `minutes` minutes from the start of the previous job (manual jobs count).
    case interval(minutes: Int)
    /// At `anchor + k·minutes` for every integer `k`: the anchor fixes the phase, not a start.
    case anchored(minutes: Int, anchor: Date)
    /// At the fire times of a Quartz expression, read in `zone` (`nil`: UTC, as in Stitch).
    case cron(CronExpression, zone: TimeZone? = nil)

    /// Resolves the effective schedule from a source's scheduling properties.
    public init(frequencyMinutes: Int, anchor: Date?, cron: CronExpression?, zone: TimeZone? = nil) {
        if let cron {
            self = .cron(cron, zone: zone.flatMap { ZonedWallClock.isUTC($0) ? nil : $0 })
        } else if let anchor, frequencyMinutes >= 60 {
            self = .anchored(minutes: frequencyMinutes, anchor: anchor)
        } else {
            self = .interval(minutes: frequencyMinutes)
        }
    }

    /// The period of an interval schedule in seconds; `nil` for cron.
    public var period: TimeInterval? {
        switch self {
        case .interval(let minutes), .anchored(let minutes, _): TimeInterval(minutes * 60)
        case .cron: nil
        }
    }

    /// The first occurrence strictly after `date` of a schedule with a fixed phase (anchored or
    /// cron). A plain interval has no phase of its own (it follows the previous job), so it returns
    /// `nil` here; see `NextFirePolicy` for how its occurrences are placed.
    public func phasedOccurrence(after date: Date) -> Date? {
        switch self {
        case .interval:
            return nil
        case .anchored(let minutes, let anchor):
            let period = Double(minutes * 60)
            let k = ((date.timeIntervalSince(anchor)) / period).rounded(.down) + 1
            return anchor.addingTimeInterval(k * period)
        case .cron(let expression, let zone):
            guard let zone else { return expression.nextFire(after: date) }
            return expression.nextFire(after: date, in: zone)
        }
    }
}
