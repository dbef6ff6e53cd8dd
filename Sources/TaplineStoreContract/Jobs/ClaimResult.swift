import Foundation
import TaplineCore

/// The outcome of trying to start one scheduled occurrence.
public enum ClaimResult: Sendable, Equatable {
    /// The job row is committed; spawn its process now. `nextFire` is the source's new due time.
    case started(JobRecord, source: SourceRecord, nextFire: Date?)
    /// A job of the source was still running: the occurrence is skipped (event `skipped`,
    /// reason `overlap`), never queued.
    case skippedOverlap(sourceID: Int64, nextFire: Date?)
    /// Nothing to start: the source is paused, system paused, deleted, not configured, or its due
    /// time moved. `nextFire` is its current due time, for the scheduler's queue.
    case notDue(sourceID: Int64, nextFire: Date?, reason: NotDueReason)

    public var sourceID: Int64 {
        switch self {
        case .started(let job, _, _): job.sourceID
        case .skippedOverlap(let id, _), .notDue(let id, _, _): id
        }
    }

    /// The source's due time after this claim.
    public var nextFire: Date? {
        switch self {
        case .started(_, _, let next), .skippedOverlap(_, let next), .notDue(_, let next, _): next
        }
    }
}

/// What one start transaction did: a result per claimed occurrence (a collection of them), and how
/// many further occurrences the late starts coalesced.
public struct ClaimBatch: Sendable, RandomAccessCollection {
    public var results: [ClaimResult]
    /// Occurrences that fell between a claimed occurrence and the moment it was handled: the
    /// scheduler was late, and the one job (or overlap skip) stands for all of them.
    public var coalescedOccurrences: Int

    public init(results: [ClaimResult], coalescedOccurrences: Int) {
        self.results = results
        self.coalescedOccurrences = coalescedOccurrences
    }

    public var startIndex: Int { results.startIndex }
    public var endIndex: Int { results.endIndex }
    public subscript(position: Int) -> ClaimResult { results[position] }
}

/// Why a due occurrence did not start.
public enum NotDueReason: String, Sendable, Equatable {
    case paused
    case systemPaused = "system_paused"
    case deleted
    /// Its due time changed (an edit), or the occurrence already ran.
    case moved
    /// Not fully configured, or its type left the configuration.
    case notConfigured = "not_configured"
    /// Another transaction holds the source row (in a cluster: another node's start, or a write
    /// in progress); the occurrence stays due and is tried again on the next turn. SQLite's
    /// single writer never answers this.
    case busy
}
