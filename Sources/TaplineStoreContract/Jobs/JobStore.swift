import Foundation
import TaplineCore

/// A spawned job's process group and log, recorded so that a sweep can end orphans after a crash.
public struct SpawnedJob: Sendable, Equatable {
    public var jobID: Int64
    public var processGroup: Int32
    public var spawnedAt: Date
    public var logPath: String

    public init(jobID: Int64, processGroup: Int32, spawnedAt: Date, logPath: String) {
        self.jobID = jobID
        self.processGroup = processGroup
        self.spawnedAt = spawnedAt
        self.logPath = logPath
    }
}

/// The job operations of a store, whichever database holds it (`Store` for one node,
/// `ClusterStore` for several): manual starts, the bookkeeping of a job's life, and the reads
/// the API serves. Both backends apply the same rules (`NextFirePolicy`, `RetryPolicy`,
/// `JobOutcome+Loads`, `CompletionPolicy`) in one transaction per call; one suite runs on both.
/// Scheduled starts are not here: each backend claims them its own way (SQLite's single
/// writer, PostgreSQL's row locks across nodes).
public protocol JobStore: AnyObject, Sendable {
    /// Starts a manual job whether or not the source is paused; the pause state is untouched.
    /// The start and its `manual_start` audit event (by `actor`, with `reason`) commit together
    /// (`SourceRecord.manualStartPlan`).
    func startManualJob(sourceID: Int64, now: Date, jobName: String, actor: Actor, reason: String?) async throws
        -> ManualStartResult
    /// Records the process groups and logs of freshly spawned jobs, in one transaction.
    func recordSpawned(_ spawned: [SpawnedJob]) async throws
    /// Ends running jobs with their outcomes, applying `policy` in the same transaction; a job
    /// that is no longer running is left as it is.
    @discardableResult
    func recordCompletions(_ completions: [(jobID: Int64, outcome: JobOutcome)], policy: CompletionPolicy) async throws
        -> CompletionResult
    /// One job by its Stitch name.
    func job(name: String) async throws -> JobRecord?
    /// A page (1-based, newest first) of a source's jobs, and the total count.
    func jobs(sourceID: Int64, page: Int, perPage: Int, filter: JobFilter) async throws -> (jobs: [JobRecord], total: Int)
    /// The source's Singer state as its next job gets it (JSON text; `nil`: none).
    func state(sourceID: Int64) async throws -> String?
    /// Clears a source's Singer state, refused while one of its jobs runs.
    func resetState(sourceID: Int64, actor: Actor, now: Date) async throws -> StateResetResult
}

/// Everything the daemon needs of a store: sources, jobs, the destination, scheduled starts and
/// discovery.
public typealias ReplicationStore = SourceStore & JobStore & DestinationStore & ScheduledStartStore & StreamStore

extension JobRecord {
    /// A job with only its identity set, for a backend to fill in from its row.
    package init(id: Int64, jobName: String, sourceID: Int64, trigger: JobTrigger, status: JobStatus, startedAt: Date) {
        self.id = id
        self.jobName = jobName
        self.sourceID = sourceID
        self.trigger = trigger
        self.status = status
        self.startedAt = startedAt
        attempt = 1
    }
}

/// The scheduler's start transaction, whichever database holds the sources: `Store` claims in
/// SQLite's single writer, `ClusterStore` under row locks that several nodes share. Both carry
/// out the same `ClaimPlan` per occurrence.
public protocol ScheduledStartStore: AnyObject, Sendable {
    /// Starts the given due occurrences in one transaction, re-checking under it what the
    /// scheduler's queue cannot be trusted with (pause columns, due time, running job). Claims
    /// are planned in order, each from the source's row as the batch's earlier claims left it,
    /// so a source named twice starts at most once (SQLite reads the row per claim; PostgreSQL
    /// reads the batch's rows at once and reads a row again when its source comes back).
    func claimScheduledStarts(_ claims: [(sourceID: Int64, occurrence: Date)], now: Date, jobName: (Int64) -> String)
        async throws -> ClaimBatch
}

/// History retention, whichever database holds the history: one short pruning step per call.
public protocol HistoryStore: AnyObject, Sendable {
    func pruneHistory(policy: RetentionPolicy, now: Date, fromSource: Int64?) async throws -> PruneResult
}

extension JobStore {
    /// A manual start asked for by tapline itself (tests, tools), with no reason.
    package func startManualJob(sourceID: Int64, now: Date, jobName: String) async throws -> ManualStartResult {
        try await startManualJob(sourceID: sourceID, now: now, jobName: jobName, actor: .system, reason: nil)
    }
}
