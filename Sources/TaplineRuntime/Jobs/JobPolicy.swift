import TaplineCore

/// How jobs behave, as the `jobs:` section of the configuration sets it. The defaults written
/// here are the only ones: the configuration and the runner's settings both hold this value.
public struct JobPolicy: Sendable, Equatable {
    /// A job running longer than this (seconds) is stopped as `DELETE …/sync` stops it and ends
    /// `failed`; 0: no limit. A source type's `timeout_seconds` overrides it.
    public var timeoutSeconds: Double = 0
    /// SIGTERM first; SIGKILL to the job's process group after this many seconds.
    public var stopGraceSeconds: Double = 10
    /// How many job logs to keep per source (older ones are deleted as new jobs end); 0 keeps all.
    public var logsPerSource = 100
    /// Consecutive failed scheduled jobs after which a source is system-paused; 0 disables.
    public var failuresBeforeSystemPause = 5
    /// Retries of failed scheduled jobs (`jobs.retries`, `jobs.retry_backoff_seconds`,
    /// `jobs.retry_max_backoff_seconds`); none by default.
    public var retry = RetryPolicy()
    /// The longest tap line and the largest job log (`jobs.max_line_bytes`, `jobs.max_log_bytes`).
    public var relayLimits = RelayLimits()

    public init() {}
}
