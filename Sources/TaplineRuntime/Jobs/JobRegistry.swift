import Dispatch
import Foundation
import Synchronization
import TaplineStoreContract

/// The jobs running now, one per source: what a stop signals, what the running cap counts, and
/// what shutdown waits for.
///
/// A job is registered before its pipeline is spawned (so a stop that arrives first still finds
/// it) and leaves once its outcome is committed. Removal names the job, not only the source: by
/// then the source may already run its next job.
final class JobRegistry: Sendable {
    struct Entry {
        var job: JobRecord
        var pipeline: (any RunningPipeline)?
        var stopRequested = false
        /// The stop came from the job's timeout (seconds), not from a caller.
        var timedOutAfter: Double?
        /// The job's timeout, cancelled when the job leaves.
        var timeout: JobTimeoutTimer?
    }

    private struct State {
        var entries: [Int64: Entry] = [:]
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.entries.count } }
    var sourceIDs: [Int64] { state.withLock { Array($0.entries.keys) } }

    func register(_ job: JobRecord) {
        state.withLock { $0.entries[job.sourceID] = Entry(job: job) }
    }

    /// Attaches the spawned pipeline; returns whether a stop was requested meanwhile.
    func attach(_ pipeline: any RunningPipeline, to job: JobRecord) -> Bool {
        state.withLock { state in
            guard state.entries[job.sourceID]?.job.id == job.id else { return false }
            state.entries[job.sourceID]?.pipeline = pipeline
            return state.entries[job.sourceID]?.stopRequested ?? false
        }
    }

    enum StopReason: Equatable {
        /// `DELETE …/sync`, or shutdown.
        case caller
        /// The job's timeout, in seconds, ran out.
        case timeout(Double)
    }

    /// Why the job is stopping; `nil` if nobody stopped it.
    /// Keeps the job's timeout until it leaves; cancels it at once if it already left.
    func attach(_ timer: JobTimeoutTimer, to job: JobRecord) {
        let kept = state.withLock { state -> Bool in
            guard state.entries[job.sourceID]?.job.id == job.id else { return false }
            state.entries[job.sourceID]?.timeout = timer
            return true
        }
        if !kept { timer.cancel() }
    }

    func stopReason(_ job: JobRecord) -> StopReason? {
        state.withLock { state in
            guard let entry = state.entries[job.sourceID], entry.job.id == job.id, entry.stopRequested else { return nil }
            return entry.timedOutAfter.map(StopReason.timeout) ?? .caller
        }
    }

    /// The job's timeout ran out: marks it as stopping for that reason and returns its pipeline,
    /// unless it already ended or was stopped by a caller.
    func timeOut(_ job: JobRecord, after seconds: Double) -> (any RunningPipeline)? {
        state.withLock { state in
            guard let entry = state.entries[job.sourceID], entry.job.id == job.id, !entry.stopRequested else { return nil }
            state.entries[job.sourceID]?.stopRequested = true
            state.entries[job.sourceID]?.timedOutAfter = seconds
            return entry.pipeline
        }
    }

    /// Marks the source's job as stopping (`jobName`: only if it is that job, for a request that
    /// named one). `nil`: no such job runs; `.some(nil)`: registered but not spawned yet (its
    /// launch sees the request and stops it).
    func requestStop(sourceID: Int64, jobName: String? = nil) -> (any RunningPipeline)?? {
        state.withLock { state -> (any RunningPipeline)?? in
            guard let entry = state.entries[sourceID], jobName == nil || entry.job.jobName == jobName else { return .none }
            state.entries[sourceID]?.stopRequested = true
            return .some(state.entries[sourceID]?.pipeline)
        }
    }

    /// Removes this job (only this one) and wakes whoever waits for the registry to empty.
    func remove(_ job: JobRecord) {
        let (timer, woken) = state.withLock { state -> (JobTimeoutTimer?, [CheckedContinuation<Void, Never>]) in
            var timer: JobTimeoutTimer?
            if state.entries[job.sourceID]?.job.id == job.id {
                timer = state.entries[job.sourceID]?.timeout
                state.entries[job.sourceID] = nil
            }
            guard state.entries.isEmpty else { return (timer, []) }
            defer { state.waiters = [:] }
            return (timer, Array(state.waiters.values))
        }
        timer?.cancel()
        for continuation in woken { continuation.resume() }
    }

    /// Returns once no job runs, or after `timeout` seconds, whichever comes first.
    func waitUntilEmpty(timeout: Double) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.empty() }
            group.addTask { try? await Task.sleep(for: .seconds(timeout)) }
            await group.next()
            group.cancelAll()
        }
    }

    private func empty() async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.entries.isEmpty || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}

/// One job's timeout: a Dispatch timer that fires once, unless cancelled first. Dispatch
/// sources are thread-safe, but the type is not marked `Sendable`.
final class JobTimeoutTimer: @unchecked Sendable {
    private let source: any DispatchSourceTimer

    init(queue: DispatchQueue, after seconds: Double, _ handler: @escaping @Sendable () -> Void) {
        source = DispatchSource.makeTimerSource(queue: queue)
        source.setEventHandler(handler: handler)
        source.schedule(deadline: .now() + seconds, repeating: .never)
        source.resume()
    }

    func cancel() { source.cancel() }
}
