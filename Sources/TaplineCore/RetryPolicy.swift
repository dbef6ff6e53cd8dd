import Foundation

/// When a failed scheduled job is tried again (`jobs.retries`, `jobs.retry_backoff_seconds`,
/// `jobs.retry_max_backoff_seconds`).
///
/// A scheduled occurrence gets up to `1 + retries` attempts. The wait before attempt `n` (n ≥ 2)
/// doubles from `initialDelay` (`initialDelay · 2^(n−2)`, at most `maxDelay`) and is jittered
/// uniformly into its upper half, `[d/2, d]`, so sources that failed together (a database that was
/// down for all of them) do not all come back in the same second. A retry that would fall at or
/// after the source's next regular occurrence is not made: that occurrence is the next chance.
/// Only `failed` scheduled jobs are retried; a stopped job was stopped by someone, an interrupted
/// one falls under the catch-up rules, and a manual job is the caller's to repeat.
public struct RetryPolicy: Sendable, Equatable {
    /// Further attempts after a failed first one; 0 (the default) never retries, as Stitch does.
    public var retries: Int
    /// The un-jittered wait before the second attempt, in seconds.
    public var initialDelay: TimeInterval
    /// The longest un-jittered wait, in seconds.
    public var maxDelay: TimeInterval

    public init(retries: Int = 0, initialDelay: TimeInterval = 60, maxDelay: TimeInterval = 3600) {
        self.retries = retries
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }

    /// The wait before `attempt` (2 for the first retry), for a `unit` drawn uniformly from [0, 1).
    public func delay(beforeAttempt attempt: Int, unit: Double) -> TimeInterval {
        let doublings = min(max(attempt - 2, 0), 62)
        let full = min(maxDelay, initialDelay * pow(2, Double(doublings)))
        return full * (0.5 + 0.5 * min(max(unit, 0), 1))
    }

    /// When attempt `failedAttempt + 1` of an occurrence is due, or `nil` when there is none: the
    /// attempts are used up, or the retry would not come before `regularNext` (the source's next
    /// regular occurrence; `nil` when the schedule has no further one).
    public func retryAt(afterFailedAttempt failedAttempt: Int, endedAt: Date, regularNext: Date?, unit: Double) -> Date? {
        guard retries > 0, failedAttempt >= 1, failedAttempt <= retries else { return nil }
        let at = endedAt.addingTimeInterval(delay(beforeAttempt: failedAttempt + 1, unit: unit))
        if let regularNext, at >= regularNext { return nil }
        return at
    }
}

/// A retry waiting for its time: attempt `attempt` of the scheduled occurrence `occurrence`. While
/// it waits, the source's due time is the retry's; `resumeAt` is the regular next occurrence it
/// goes back to once the retry has started (or been cancelled).
public struct PendingRetry: Sendable, Equatable {
    public var attempt: Int
    public var occurrence: Date
    public var resumeAt: Date?

    public init(attempt: Int, occurrence: Date, resumeAt: Date?) {
        self.attempt = attempt
        self.occurrence = occurrence
        self.resumeAt = resumeAt
    }
}
