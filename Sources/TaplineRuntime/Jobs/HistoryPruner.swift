import Dispatch
import Foundation
import Logging
import Synchronization
import TaplineStoreContract

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps job history bounded (`RetentionPolicy`), on a queue of its own.
///
/// Every `interval` it runs pruning steps until one finds nothing more to do; each step is one
/// short transaction with a pause after it, so starts, pauses and API writes interleave with a
/// long backlog instead of waiting behind it. Log files of pruned jobs are removed after each
/// commit.
public final class HistoryPruner: Sendable {
    private let store: any PrunerStore
    private let policy: RetentionPolicy
    private let logger: Logger
    private let interval: Double
    private let queue = DispatchQueue(label: "tapline.history-pruner", qos: .utility)
    /// Made in `start`, cancelled in `stop`; both run on `queue`.
    nonisolated(unsafe) private var timer: (any DispatchSourceTimer)?
    /// Set by `stop`: a prune in progress ends after its current step.
    private let stopped = Atomic<Bool>(false)
    private let now: @Sendable () -> Date

    public init(
        store: any PrunerStore, policy: RetentionPolicy, logger: Logger, interval: Double = 60,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.policy = policy
        self.logger = logger
        self.interval = interval
        self.now = now
    }

    public func start() {
        guard policy.days > 0 || policy.jobsPerSource > 0 else { return }
        queue.sync {
            let source = DispatchSource.makeTimerSource(queue: queue)
            source.schedule(deadline: .now() + 5, repeating: interval, leeway: .seconds(1))
            source.setEventHandler { [weak self] in self?.pruneUntilDone() }
            source.resume()
            timer = source
        }
    }

    public func stop() {
        stopped.store(true, ordering: .relaxed)
        queue.sync {
            timer?.cancel()
            timer = nil
        }
    }

    /// Prunes until a step is not full; returns what was removed in all.
    @discardableResult
    public func pruneUntilDone(pause: Double = 0.02) -> PruneResult {
        var total = PruneResult()
        var cursor: Int64? = nil
        var steps = 0
        while true {
            steps += 1
            let step: PruneResult
            do {
                step = try store.pruneHistory(policy: policy, now: now(), fromSource: cursor)
            } catch {
                logger.error("cannot prune job history", metadata: ["error": "\(error)"])
                break
            }
            for path in step.logs { unlink(path) }
            total.jobs += step.jobs
            total.events += step.events
            total.checks += step.checks
            cursor = step.nextSource
            // On while a step was cut short, or the per-source pass has not gone round yet.
            guard step.full || cursor != nil, steps < 100_000, !stopped.load(ordering: .relaxed) else { break }
            if pause > 0 { usleep(useconds_t(pause * 1_000_000)) }
        }
        if total.jobs + total.events + total.checks > 0 {
            logger.info(
                "pruned job history",
                metadata: ["jobs.count": "\(total.jobs)", "events.count": "\(total.events)", "checks.count": "\(total.checks)"])
        }
        return total
    }
}
