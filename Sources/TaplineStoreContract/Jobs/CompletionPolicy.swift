import Foundation
import TaplineCore

/// What recording job outcomes did.
public struct CompletionResult: Sendable {
    public var ended: [JobRecord] = []
    /// Log files whose retention ran out; delete them.
    public var expiredLogs: [String] = []
    /// Sources system-paused by repeated failures, with the reason. (Every change of a source's
    /// schedule, these and the clearing of a pause by a manual success, reaches the scheduler
    /// through the store's announcements.)
    public var systemPaused: [(sourceID: Int64, reason: String)] = []
    /// Retries scheduled for failed scheduled jobs: the job that failed and when its next attempt
    /// is due.
    public var retries: [(job: JobRecord, at: Date)] = []

    public init() {}
}

/// What happens around a job's end, from the configuration.
public struct CompletionPolicy: Sendable {
    /// Job logs kept per source; 0 keeps all.
    public var keepLogsPerSource = 0
    /// Consecutive failed scheduled jobs that system-pause a source; 0 disables.
    public var failuresBeforeSystemPause = 0
    /// When a failed scheduled job is tried again; the default never retries.
    public var retry = RetryPolicy()
    /// A uniform draw from [0, 1) for the retry's jitter (injected so tests can fix it).
    public var unitRandom: @Sendable () -> Double = { Double.random(in: 0..<1) }

    public init(
        keepLogsPerSource: Int = 0, failuresBeforeSystemPause: Int = 0, retry: RetryPolicy = RetryPolicy(),
        unitRandom: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.keepLogsPerSource = keepLogsPerSource
        self.failuresBeforeSystemPause = failuresBeforeSystemPause
        self.retry = retry
        self.unitRandom = unitRandom
    }
}
