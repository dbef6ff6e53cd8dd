import Dispatch
import Foundation
import Logging
import Synchronization
import TaplineCore
import TaplineStore

/// Starts scheduled jobs on time: a due-queue of next fire times and one `DispatchSourceTimer`
/// armed for the earliest of them, re-armed whenever a source changes. No polling.
///
/// The queue is only a hint. Every start goes through `Store.claimScheduledStarts`, one write
/// transaction that re-checks the pause columns, the due time and the running job, so a pause
/// acknowledged by the API can never be overtaken by a stale queue entry.
public final class Scheduler: JobEndObserver {
    private struct State {
        var queue = DueQueue()
        var tokens: Double
        var lastRefill: Date?
        var armedFor: Date?
        var started = false
        var stopped = false
        var lastTick: Date?
        /// Due sources were left waiting because every job slot was taken.
        var waitingForSlot = false
        /// While a start transaction and its spawns are in progress: the sources whose change
        /// notifications arrived meanwhile. Their queue entries are then re-read from the store,
        /// since a claim result computed before such a change must not overwrite it.
        var changedDuringClaim: Set<Int64>?
    }

    private let store: Store
    private let runner: JobRunner
    private let settings: SchedulerSettings
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let stitchClientID: Int64
    private let dispatchQueue = DispatchQueue(label: "tapline.scheduler", qos: .userInteractive)
    private let state: Mutex<State>
    private let timer: Mutex<TimerHandle?> = Mutex(nil)
    private let automaticTimer: Bool
    private let notifier: SystemdNotifier?
    private let metrics: TaplineMetrics?
    private let lastStatus = Mutex<Date?>(nil)

    /// - Parameter automaticTimer: `false` for tests, which drive `tick()` themselves with a
    ///   manual clock.
    public init(
        store: Store, runner: JobRunner, settings: SchedulerSettings, stitchClientID: Int64, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }, automaticTimer: Bool = true, notifier: SystemdNotifier? = nil,
        metrics: TaplineMetrics? = nil
    ) {
        self.notifier = notifier
        self.metrics = metrics
        self.store = store
        self.runner = runner
        self.settings = settings
        self.now = now
        self.logger = logger
        self.stitchClientID = stitchClientID
        self.automaticTimer = automaticTimer
        self.state = Mutex(State(tokens: max(1, settings.startsPerSecond)))
        runner.setObserver(self)
    }

    /// Applies the catch-up rules, loads every due time and arms the timer.
    public func start() throws {
        let (entries, skipped) = try store.prepareSchedule(now: now(), catchUpWindow: settings.catchUpWindowSeconds)
        if skipped > 0 { metrics?.occurrenceSkipped(reason: "outside_catch_up_window", count: skipped) }
        let startedAt = now()
        state.withLock { state in
            for entry in entries { state.queue.set(entry.sourceID, due: entry.due) }
            state.started = true
            // The loop counts as alive from its start; its first tick may be a full sleep away.
            state.lastTick = startedAt
        }
        if automaticTimer {
            let source = DispatchSource.makeTimerSource(flags: [.strict], queue: dispatchQueue)
            source.setEventHandler { [weak self] in self?.tick() }
            source.schedule(deadline: .distantFuture)
            source.resume()
            let handle = TimerHandle(source)
            timer.withLock { $0 = handle }
        }
        logger.info("scheduler started", metadata: ["sources.scheduled": "\(entries.count)"])
        rearm()
    }

    /// Stops starting jobs (running ones are the runner's business).
    public func stop() {
        state.withLock { $0.stopped = true }
        timer.withLock { timer in
            timer?.source.cancel()
            timer = nil
        }
    }

    /// The due time the scheduler holds for a source (what `schedule.next_fire_time` shows).
    public func due(of sourceID: Int64) -> Date? { state.withLock { $0.queue.due(of: sourceID) } }

    /// When the loop last ran (for health checks).
    public var lastTick: Date? { state.withLock { $0.lastTick } }

    /// A source was created, updated, paused, unpaused or deleted: take its committed due time.
    public func sourceChanged(_ source: SourceRecord) {
        let due = source.isSchedulable(in: store.catalog) ? source.nextFireAt : nil
        let earlier = state.withLock { state -> Bool in
            state.queue.set(source.id, due: due)
            state.changedDuringClaim?.insert(source.id)
            guard let due, state.started else { return false }
            return state.armedFor.map { due < $0 } ?? true
        }
        if earlier { rearm() }
    }

    /// One turn of the loop: start what is due, within the start budget and the running cap.
    /// Runs on the scheduler's own queue (tests call it directly).
    public func tick() {
        let now = self.now()
        let due = state.withLock { state -> [(sourceID: Int64, due: Date)] in
            state.lastTick = now
            state.armedFor = nil
            guard !state.stopped else { return [] }
            refill(&state, now: now)
            let slots = max(0, settings.maxRunningJobs - runner.runningCount)
            let limit = min(Int(state.tokens.rounded(.down)), slots)
            state.waitingForSlot = slots == 0
            guard limit > 0 else { return [] }
            let due = state.queue.popDue(now: now, limit: limit)
            if due.count == slots, let next = state.queue.earliest(), next <= now { state.waitingForSlot = true }
            state.tokens -= Double(due.count)
            return due
        }
        if !due.isEmpty { startDue(due, now: now) }
        rearm()
        report(now: now)
    }

    /// The systemd watchdog is fed from this loop, so a wedged loop gets the daemon restarted;
    /// the status line is refreshed at most every 10 seconds.
    private func report(now: Date) {
        guard let notifier, notifier.isActive else { return }
        notifier.watchdog()
        let due = lastStatus.withLock { last -> Bool in
            guard last.map({ now.timeIntervalSince($0) >= 10 }) ?? true else { return false }
            last = now
            return true
        }
        if due { notifier.status(statusLine) }
    }

    /// `42 sources scheduled, 3 jobs running`.
    public var statusLine: String {
        "\(state.withLock { $0.queue.count }) sources scheduled, \(runner.runningCount) jobs running"
    }

    /// Whether the loop ran recently enough (for `/healthz`).
    public func isLoopAlive(now: Date) -> Bool {
        guard let last = lastTick else { return true }  // not started yet (tests, start-up)
        return now.timeIntervalSince(last) <= maxSleep * 2 + 5
    }

    private var maxSleep: TimeInterval {
        min(settings.maxSleepSeconds, notifier?.watchdogInterval ?? .infinity)
    }

    private func startDue(_ due: [(sourceID: Int64, due: Date)], now: Date) {
        let clientID = stitchClientID
        let results: [ClaimResult]
        state.withLock { $0.changedDuringClaim = [] }
        defer { state.withLock { $0.changedDuringClaim = nil } }
        do {
            results = try store.claimScheduledStarts(
                due.map { ($0.sourceID, $0.due) }, now: now,
                jobName: { JobName.make(clientID: clientID, sourceID: $0, at: now) })
        } catch {
            logger.error("cannot claim due jobs; retrying", metadata: ["error": "\(error)", "jobs.count": "\(due.count)"])
            state.withLock { state in
                for entry in due where state.queue.due(of: entry.sourceID) == nil {
                    state.queue.set(entry.sourceID, due: entry.due)
                }
            }
            return
        }
        // Spawning is most of the cost of a start (the parent waits for each exec); spread a burst
        // over every core.
        let starts = results.compactMap { result -> (JobRecord, SourceRecord)? in
            if case .started(let job, let source, _) = result { return (job, source) }
            return nil
        }
        DispatchQueue.concurrentPerform(iterations: starts.count) { i in
            runner.start(starts[i].0, source: starts[i].1)
        }
        for result in results {
            switch result {
            case .started: break
            case .skippedOverlap(let sourceID, _):
                metrics?.occurrenceSkipped(reason: "overlap")
                logger.info("occurrence skipped: a job is still running", metadata: ["source.id": "\(sourceID)"])
            case .notDue(_, _, let reason):
                if reason != .moved { metrics?.occurrenceSkipped(reason: reason.rawValue) }
            }
        }
        // A source changed through the API while this claim ran may already have a newer due
        // time in the queue, or an older one: the order of the two commits is unknown here. The
        // claim's answer is applied only to sources with no such change; the others are re-read
        // from the store, which holds whichever committed last.
        var crossed = state.withLock { state -> Set<Int64> in
            let changed = state.changedDuringClaim ?? []
            for result in results where !changed.contains(result.sourceID) {
                state.queue.set(result.sourceID, due: result.nextFire)
            }
            return changed.intersection(results.map(\.sourceID))
        }
        for _ in 0..<3 where !crossed.isEmpty {
            state.withLock { $0.changedDuringClaim = [] }
            guard let stored = try? store.nextFireTimes(of: Array(crossed)) else { break }
            crossed = state.withLock { state in
                let again = state.changedDuringClaim ?? []
                for id in crossed where !again.contains(id) { state.queue.set(id, due: stored[id]) }
                return crossed.intersection(again)
            }
        }
    }

    private func refill(_ state: inout State, now: Date) {
        let rate = max(1, settings.startsPerSecond)
        if let last = state.lastRefill {
            state.tokens = min(rate, state.tokens + max(0, now.timeIntervalSince(last)) * rate)
        }
        state.lastRefill = now
    }

    /// A job ended: if due sources were waiting for a slot, start them now.
    public func jobEnded(_ job: JobRecord) {
        let waiting = state.withLock { state -> Bool in
            guard state.waitingForSlot else { return false }
            state.waitingForSlot = false
            return true
        }
        if waiting { rearm() }
    }

    /// Arms the timer for the earliest due time (or when the start budget or a free slot allows
    /// the next start), capped at `maxSleepSeconds`.
    private func rearm() {
        guard automaticTimer else { return }
        let now = self.now()
        let deadline = state.withLock { state -> Date? in
            guard state.started, !state.stopped else { return nil }
            var deadline = now.addingTimeInterval(maxSleep)
            if let earliest = state.queue.earliest() {
                var wake = earliest
                if earliest <= now {
                    if state.tokens < 1 {
                        wake = now.addingTimeInterval((1 - state.tokens) / max(1, settings.startsPerSecond))
                    } else if runner.runningCount >= settings.maxRunningJobs {
                        // Woken by slotFreed when a job ends.
                        wake = deadline
                    }
                }
                deadline = min(deadline, wake)
            }
            state.armedFor = deadline
            return deadline
        }
        guard let deadline else { return }
        let delay = max(0, deadline.timeIntervalSince(now))
        timer.withLock { timer in
            timer?.source.schedule(deadline: .now() + delay, repeating: .never, leeway: .nanoseconds(0))
        }
    }
}

/// The Dispatch timer. Dispatch sources are thread-safe, but the type is not marked `Sendable`.
private final class TimerHandle: @unchecked Sendable {
    let source: any DispatchSourceTimer
    init(_ source: any DispatchSourceTimer) { self.source = source }
}
