import Dispatch
import Foundation
import Logging
import Synchronization
import TaplineCore
import TaplineStoreContract

#if canImport(Glibc)
    import Glibc
#endif

/// Writes job spawns and completions to the store in batches, on its own serial queue.
///
/// Each SQLite commit costs a device flush, so writing one row per job would cap job throughput
/// at a few hundred per second. Whatever accumulates while a write is in flight goes into the
/// next transaction: a group commit, with no added delay when the daemon is quiet.
final class JobRecorder: Sendable {
    private struct Pending {
        var spawned: [(jobID: Int64, processGroup: Int32, spawnedAt: Date, logPath: String)] = []
        var completions: [(jobID: Int64, outcome: JobOutcome, done: @Sendable (JobRecord?) -> Void)] = []
        var flushScheduled = false
    }

    private let store: any RunnerStore
    private let logger: Logger
    private let policy: CompletionPolicy
    private let queue = DispatchQueue(label: "tapline.job-recorder")
    private let pending = Mutex(Pending())

    init(store: any RunnerStore, logger: Logger, policy: CompletionPolicy) {
        self.store = store
        self.logger = logger
        self.policy = policy
    }

    func spawned(jobID: Int64, processGroup: Int32, at date: Date, logPath: String) {
        enqueue { $0.spawned.append((jobID, processGroup, date, logPath)) }
    }

    /// Records an outcome; `done` runs after the commit with the ended job (nil if it had already
    /// ended).
    func completed(jobID: Int64, outcome: JobOutcome, done: @escaping @Sendable (JobRecord?) -> Void) {
        enqueue { $0.completions.append((jobID, outcome, done)) }
    }

    /// Waits until everything enqueued so far is written and its `done` callbacks have run.
    ///
    /// One barrier on the queue is not enough: a flush in progress when `drain` is called leaves
    /// what arrived during its write to a follow-up flush it enqueues after the barrier (and a
    /// busy database defers a batch by half a second). So the wait repeats until no flush is
    /// pending.
    func drain() async {
        while true {
            await withCheckedContinuation { continuation in
                queue.async { continuation.resume() }
            }
            guard pending.withLock({ $0.flushScheduled }) else { return }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    private func enqueue(_ change: (inout Pending) -> Void) {
        let schedule = pending.withLock { state -> Bool in
            change(&state)
            guard !state.flushScheduled else { return false }
            state.flushScheduled = true
            return true
        }
        if schedule { queue.async { self.flush() } }
    }

    private func flush() {
        let batch = pending.withLock { state -> Pending in
            let taken = state
            state = Pending()
            state.flushScheduled = taken.flushScheduled
            return taken
        }
        do {
            try store.recordSpawned(batch.spawned)
        } catch  where store.isRetryable(error) {
            retryLater(spawned: batch.spawned, completions: batch.completions)
            return
        } catch {
            logger.error("cannot record spawned jobs", metadata: ["error": "\(error)"])
        }
        var ended: [Int64: JobRecord] = [:]
        do {
            let result = try store.recordCompletions(
                batch.completions.map { ($0.jobID, $0.outcome) }, policy: policy)
            for job in result.ended { ended[job.id] = job }
            for path in result.expiredLogs { unlink(path) }
            for retry in result.retries {
                logger.notice(
                    "failed scheduled job will be retried",
                    metadata: [
                        "source.id": "\(retry.job.sourceID)", "job": "\(retry.job.jobName)",
                        "next_attempt": "\(retry.job.attempt + 1)", "at": "\(Timestamp.formatMilliseconds(retry.at))",
                    ])
            }
            for pause in result.systemPaused {
                logger.warning("source system paused", metadata: ["source.id": "\(pause.sourceID)", "reason": "\(pause.reason)"])
            }
        } catch  where store.isRetryable(error) {
            // Another process holds the database: keep the outcomes and try again, so no job is
            // left `running` (which would block its source) for want of one write.
            retryLater(spawned: [], completions: batch.completions)
            return
        } catch {
            logger.error("cannot record job outcomes", metadata: ["error": "\(error)"])
        }
        // The callbacks run before the flag can drop: `drain` returns once it sees no flush
        // scheduled, and by then every callback of what it waited for must have run.
        for completion in batch.completions { completion.done(ended[completion.jobID]) }
        // What arrived during this write is the next group.
        let more = pending.withLock { state -> Bool in
            state.flushScheduled = !state.spawned.isEmpty || !state.completions.isEmpty
            return state.flushScheduled
        }
        if more { queue.async { self.flush() } }
    }

    /// Puts a batch that met a locked database back in front of what came since and flushes
    /// again shortly.
    private func retryLater(
        spawned: [(jobID: Int64, processGroup: Int32, spawnedAt: Date, logPath: String)],
        completions: [(jobID: Int64, outcome: JobOutcome, done: @Sendable (JobRecord?) -> Void)]
    ) {
        logger.warning("the database is locked by another process; job records wait", metadata: ["jobs.count": "\(completions.count)"])
        pending.withLock { state in
            state.spawned = spawned + state.spawned
            state.completions = completions + state.completions
            state.flushScheduled = true
        }
        queue.asyncAfter(deadline: .now() + 0.5) { self.flush() }
    }
}
