import Dispatch
import Foundation
import PostgresNIO
import Synchronization
import TaplineCore
import TaplineStoreContract

/// The cluster store as the scheduler's loop, the job runner and the history pruner call a
/// store: synchronously, from their dispatch queues (`SchedulerStore`, `RunnerStore`,
/// `PrunerStore`). Each call runs the store's
/// async operation in a task and waits for it, within `deadline`: a database that does not
/// answer fails the call instead of wedging the loop, which then retries as after any failed
/// claim. Never call it from the cooperative pool, which it would block.
///
/// A claim that ran out of time may still commit after the caller gave up: its job row then
/// names this node and epoch but no process runs it, until the node's next start or the reaper
/// (after the lease) ends it as `interrupted`. A completion that ran out of time is kept and
/// written again; a second write of an ended job changes nothing.
public final class ClusterRuntimeStore: SchedulerStore, RunnerStore, PrunerStore {
    public let store: ClusterStore
    let deadline: Duration
    /// How long a due source stays unclaimed while some node is up (the lease and the reap
    /// grace): the catch-up rules apply only to sources overdue by more.
    let unattendedAfter: TimeInterval

    public init(store: ClusterStore, deadline: Duration = .seconds(10), unattendedAfter: TimeInterval = 35) {
        self.store = store
        self.deadline = deadline
        self.unattendedAfter = unattendedAfter
    }

    public var catalog: SourceTypeCatalog { store.catalog }

    public func observe(_ observer: any StoreObserver) { store.observe(observer) }

    public func prepareSchedule(now: Date, catchUpWindow: TimeInterval?, cause: CatchUpCause) throws
        -> (due: [(sourceID: Int64, due: Date)], skipped: Int)
    {
        let (store, unattended) = (self.store, unattendedAfter)
        return try blocking("the catch-up rules") {
            try await store.prepareSchedule(now: now, catchUpWindow: catchUpWindow, cause: cause, unattendedAfter: unattended)
        }
    }

    public func claimScheduledStarts(_ claims: [(sourceID: Int64, occurrence: Date)], now: Date, jobName: (Int64) -> String) throws
        -> ClaimBatch
    {
        let store = self.store
        let names = Dictionary(claims.map { ($0.sourceID, jobName($0.sourceID)) }, uniquingKeysWith: { first, _ in first })
        return try blocking("a start transaction") {
            try await store.claimScheduledStarts(claims, now: now, jobName: { names[$0] ?? "\($0)" })
        }
    }

    public func jobInputs(sourceID: Int64, withCatalog: Bool) throws -> (destination: DestinationRecord?, state: String?, catalog: String?)
    {
        let store = self.store
        return try blocking("reading a job's inputs") { try await store.jobInputs(sourceID: sourceID, withCatalog: withCatalog) }
    }

    @discardableResult
    public func recordSystemPause(sourceID: Int64, reason: String, now: Date) throws -> SourceRecord? {
        let store = self.store
        return try blocking("a system pause") { try await store.systemPause(sourceID: sourceID, reason: reason, now: now) }
    }

    public func recordSpawned(_ spawned: [(jobID: Int64, processGroup: Int32, spawnedAt: Date, logPath: String)]) throws {
        let store = self.store
        let records = spawned.map {
            SpawnedJob(jobID: $0.jobID, processGroup: $0.processGroup, spawnedAt: $0.spawnedAt, logPath: $0.logPath)
        }
        try blocking("recording spawned jobs") { try await store.recordSpawned(records) }
    }

    public func recordCompletions(_ completions: [(jobID: Int64, outcome: JobOutcome)], policy: CompletionPolicy) throws
        -> CompletionResult
    {
        let store = self.store
        return try blocking("recording job outcomes") { try await store.recordCompletions(completions, policy: policy) }
    }

    public func pruneHistory(policy: RetentionPolicy, now: Date, fromSource: Int64?) throws -> PruneResult {
        let store = self.store
        return try blocking("a history pruning step") { try await store.pruneHistory(policy: policy, now: now, fromSource: fromSource) }
    }

    /// Retried by the runner and the loop: the database out of reach (`ClusterStore.isUnreachable`).
    public func isRetryable(_ error: any Error) -> Bool { ClusterStore.isUnreachable(error) }

    /// Runs `operation` in a task and waits for it on this thread, within the deadline.
    private func blocking<T: Sendable>(_ what: String, _ operation: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let deadline = self.deadline
        Task {
            let result = await Result { try await withDeadline(deadline, what, operation) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }
}
