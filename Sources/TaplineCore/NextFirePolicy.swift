import Foundation

/// When a source's next scheduled job is due, for each event that moves it.
///
/// The store keeps one `next_fire_at` per source and every change of it goes through these
/// functions, so the API's `schedule.next_fire_time`, the scheduler's due-queue and a person
/// reading the database with `sqlite3` all see the same instant. All functions are pure; `now`
/// is passed in.
public enum NextFirePolicy {
    /// A source became schedulable for the first time: created fully configured, or just finished
    /// its configuration. A plain interval is due at once (Stitch runs a new source promptly); a
    /// phased schedule waits for its next occurrence.
    public static func afterCreation(_ schedule: Schedule, now: Date) -> Date? {
        switch schedule {
        case .interval: now
        case .anchored, .cron: schedule.phasedOccurrence(after: now)
        }
    }

    /// The scheduling properties of an active source changed. A plain interval keeps counting from
    /// the previous job's start (due now if that already lies more than one new period back, or if
    /// it never ran); a phased schedule takes its next occurrence.
    public static func afterScheduleChange(_ schedule: Schedule, lastStart: Date?, now: Date) -> Date? {
        switch schedule {
        case .interval(let minutes):
            guard let lastStart else { return now }
            return max(lastStart.addingTimeInterval(TimeInterval(minutes * 60)), now)
        case .anchored, .cron:
            return schedule.phasedOccurrence(after: now)
        }
    }

    /// The source was unpaused (by a user, or its system pause was cleared). Unpausing never starts
    /// a job by itself: occurrences inside the paused period are skipped and the next fire is the
    /// first occurrence strictly after `now`. For a plain interval the occurrences are
    /// `base + k·period`, where `base` is the previous job's start (or the creation time).
    public static func afterUnpause(_ schedule: Schedule, lastStart: Date?, createdAt: Date, now: Date) -> Date? {
        switch schedule {
        case .interval(let minutes):
            let base = lastStart ?? createdAt
            let period = TimeInterval(minutes * 60)
            let k = max(1, (now.timeIntervalSince(base) / period).rounded(.down) + 1)
            return base.addingTimeInterval(k * period)
        case .anchored, .cron:
            return schedule.phasedOccurrence(after: now)
        }
    }

    /// A scheduled occurrence `occurrence` was handled at `now`, whether its job started (at
    /// `startedAt`) or it was skipped. Occurrences that passed while we were late are coalesced:
    /// the next fire always lies after `now`.
    public static func afterOccurrence(
        _ schedule: Schedule, occurrence: Date, startedAt: Date?, now: Date
    ) -> Date? {
        switch schedule {
        case .interval(let minutes):
            let period = TimeInterval(minutes * 60)
            let base = startedAt ?? occurrence
            var next = base.addingTimeInterval(period)
            if next <= now {
                let k = (now.timeIntervalSince(base) / period).rounded(.down) + 1
                next = base.addingTimeInterval(k * period)
            }
            return next
        case .anchored, .cron:
            return schedule.phasedOccurrence(after: max(occurrence, now))
        }
    }

    /// A manual job started at `startedAt`. Only a plain interval moves: it counts from the start
    /// of the previous job, manual or not. `current` is the source's current next fire time.
    public static func afterManualStart(_ schedule: Schedule, current: Date?, startedAt: Date) -> Date? {
        switch schedule {
        case .interval(let minutes):
            return startedAt.addingTimeInterval(TimeInterval(minutes * 60))
        case .anchored, .cron:
            return current
        }
    }

    /// How many occurrences after `occurrence`, at or before `now`, a start handled at `now`
    /// stands for: the scheduler was late by that many, and they coalesce into one job (at
    /// most `limit`, so a cron of every second after a long stall is not walked forever).
    public static func coalesced(_ schedule: Schedule, occurrence: Date, now: Date, limit: Int = 100_000) -> Int {
        guard now > occurrence else { return 0 }
        if let period = schedule.period {
            return min(limit, Int((now.timeIntervalSince(occurrence) / period).rounded(.down)))
        }
        var count = 0
        var current = occurrence
        while count < limit, let next = schedule.phasedOccurrence(after: current), next <= now {
            count += 1
            current = next
        }
        return count
    }
}
