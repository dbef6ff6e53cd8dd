import Foundation
import TaplineCore

/// What the scheduler's loop needs of a store. The loop runs on a dispatch queue and carries out
/// each start transaction before it takes the next decision, so these calls are synchronous:
/// SQLite's `Store` answers them directly, and a cluster store waits for its database there
/// (never on the cooperative pool).
public protocol SchedulerStore: AnyObject, Sendable {
    /// Registers an observer of committed source changes (held weakly).
    func observe(_ observer: any StoreObserver)
    /// Applies the catch-up rules to overdue sources and returns every scheduled due time.
    func prepareSchedule(now: Date, catchUpWindow: TimeInterval?, cause: CatchUpCause) throws
        -> (due: [(sourceID: Int64, due: Date)], skipped: Int)
    /// The start transaction (`ScheduledStartStore`), carried out before it returns.
    func claimScheduledStarts(_ claims: [(sourceID: Int64, occurrence: Date)], now: Date, jobName: (Int64) -> String) throws
        -> ClaimBatch
}

/// What the job runner needs of a store, called from its dispatch queues (the spawn path and the
/// recorder's group commits), synchronously for the same reason as the scheduler's.
public protocol RunnerStore: AnyObject, Sendable {
    var catalog: SourceTypeCatalog { get }
    /// The live destination, the confirmed state and (`withCatalog`) the selected catalog.
    func jobInputs(sourceID: Int64, withCatalog: Bool) throws -> (destination: DestinationRecord?, state: String?, catalog: String?)
    /// A system pause by the runner (a job that cannot start as configured).
    @discardableResult
    func recordSystemPause(sourceID: Int64, reason: String, now: Date) throws -> SourceRecord?
    /// `JobStore.recordSpawned`, from the recorder's queue.
    func recordSpawned(_ spawned: [(jobID: Int64, processGroup: Int32, spawnedAt: Date, logPath: String)]) throws
    /// `JobStore.recordCompletions`, from the recorder's queue.
    func recordCompletions(_ completions: [(jobID: Int64, outcome: JobOutcome)], policy: CompletionPolicy) throws
        -> CompletionResult
    /// Whether a write that threw changed nothing and may simply be tried again later (SQLite:
    /// the database was locked; PostgreSQL: it could not be reached): the recorder keeps such a
    /// batch instead of losing its outcomes.
    func isRetryable(_ error: any Error) -> Bool
}

/// What the history pruner needs of a store, called from its own queue, synchronously for the
/// same reason as the scheduler's: one short step at a time (`HistoryStore.pruneHistory`).
public protocol PrunerStore: AnyObject, Sendable {
    func pruneHistory(policy: RetentionPolicy, now: Date, fromSource: Int64?) throws -> PruneResult
}
