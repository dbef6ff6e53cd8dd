import Foundation
import TaplineCore

/// How much job history is kept (Stitch shows 60 days).
public struct RetentionPolicy: Sendable, Equatable {
    /// Ended jobs, their logs and overlap-skip events older than this are pruned; 0 keeps all.
    public var days: Double = 60
    /// At most this many ended jobs per source; 0 keeps all.
    public var jobsPerSource = 1000
    /// Rows one transaction deletes: small, so a prune never holds the write lock long enough
    /// to delay a start or a pause noticeably.
    public var batch = 500
    /// Sources whose count one step checks.
    public var sourcesPerStep = 200
    public init() {}
}

/// What one pruning step removed.
public struct PruneResult: Sendable, Equatable {
    public var jobs = 0
    public var events = 0
    public var checks = 0
    /// Log files of the deleted jobs, for the caller to remove after the commit.
    public var logs: [String] = []
    /// Where the per-source pass goes on from (a source id), or nil when it went round.
    public var nextSource: Int64?

    /// Whether the step was cut short by the batch size (more is waiting).
    public var full = false

    public init() {}
}
