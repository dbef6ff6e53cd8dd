import Foundation

/// What to do at start-up with a source whose next fire time passed while tapline was down.
///
/// A source whose occurrences were missed runs **once** (coalesced), and only if its latest missed
/// occurrence lies within the catch-up window; otherwise the missed occurrences are skipped and it
/// waits for its next one. The default window is one period of the source (for cron, the gap from
/// the latest missed occurrence to the one after it), so a daily job missed by an hour still runs
/// and a minutely job missed by an hour does not run sixty times, or at all.
public enum CatchUpPolicy {
    public enum Decision: Equatable, Sendable {
        /// Run once now, as the occurrence `occurrence` (the latest one missed).
        case runNow(occurrence: Date)
        /// Skip the `missed` occurrences; the next fire is `next`.
        case skip(missed: Int, next: Date?)
    }

    /// - Parameters:
    ///   - nextFire: the stored next fire time, at or before `now`.
    ///   - window: the catch-up window; `nil` means one period of the schedule.
    public static func decide(_ schedule: Schedule, nextFire: Date, now: Date, window: TimeInterval?) -> Decision {
        var latest = nextFire
        var following = successor(of: latest, in: schedule)
        var missed = 1
        // Walk to the latest occurrence at or before now (bounded: a cron of every second over a
        // long downtime is stepped in large strides for interval schedules, one by one for cron).
        if let period = schedule.period, let f = following, f <= now {
            let steps = (now.timeIntervalSince(latest) / period).rounded(.down)
            latest = latest.addingTimeInterval(steps * period)
            missed += Int(steps)
            following = latest.addingTimeInterval(period)
        } else {
            while let f = following, f <= now, missed < 10_000_000 {
                latest = f
                missed += 1
                following = successor(of: f, in: schedule)
            }
        }
        let limit = window ?? (following.map { $0.timeIntervalSince(latest) } ?? .infinity)
        if now.timeIntervalSince(latest) <= limit {
            return .runNow(occurrence: latest)
        }
        return .skip(missed: missed, next: following)
    }

    private static func successor(of occurrence: Date, in schedule: Schedule) -> Date? {
        switch schedule {
        case .interval(let minutes): occurrence.addingTimeInterval(TimeInterval(minutes * 60))
        case .anchored, .cron: schedule.phasedOccurrence(after: occurrence)
        }
    }
}
