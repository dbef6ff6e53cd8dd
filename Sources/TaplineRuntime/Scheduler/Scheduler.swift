import Dispatch
import Foundation
import Logging
import Synchronization
import TaplineCore
import TaplineStoreContract

/// Starts scheduled jobs on time: the shell around `SchedulerMachine`, which makes every
/// decision. This class feeds it events (a wake-up of the timer, the store's announcements of
/// committed changes, a job's end) and carries out the actions it returns: the start
/// transaction, the timer, the watchdog, logs and metrics.
///
/// The machine's queue is only a hint. Every start goes through the store's `claimScheduledStarts`,
/// one write transaction that re-checks the pause columns, the due time and the running job, so a
/// pause acknowledged by the API can never be overtaken by a stale queue entry. The store
/// announces every commit in commit order, so the queue always ends at the last committed due
/// time, whichever of a claim and an API change committed first.
///
/// One lock (the machine's) and no other taken while it is held, except the timer's arming,
/// which never blocks.
public final class Scheduler: JobEndObserver, StoreObserver {
    private let store: any SchedulerStore
    private let runner: JobRunner
    private let settings: SchedulerSettings
    private let clock: SchedulerClock
    private let logger: Logger
    private let stitchClientID: Int64
    private let machine: Mutex<SchedulerMachine>
    private let timer: any SchedulerTimer
    private let notifier: SystemdNotifier?
    private let metrics: TaplineMetrics?
    private let lastStatus = Mutex<Date?>(nil)

    /// - Parameter timer: the loop's wake-up; tests pass one they fire by hand.
    public init(
        store: any SchedulerStore, runner: JobRunner, settings: SchedulerSettings, stitchClientID: Int64, logger: Logger,
        clock: SchedulerClock = .system, timer: any SchedulerTimer = DispatchSchedulerTimer(),
        notifier: SystemdNotifier? = nil, metrics: TaplineMetrics? = nil
    ) {
        self.notifier = notifier
        self.metrics = metrics
        self.store = store
        self.runner = runner
        self.settings = settings
        self.clock = clock
        self.logger = logger
        self.stitchClientID = stitchClientID
        self.timer = timer
        let maxSleep = min(settings.maxSleepSeconds, notifier?.watchdogInterval ?? .infinity)
        self.machine = Mutex(
            SchedulerMachine(
                settings: .init(
                    startsPerSecond: settings.startsPerSecond, maxRunningJobs: settings.maxRunningJobs, maxSleep: maxSleep)))
        runner.setObserver(self)
        store.observe(self)
        timer.setHandler { [weak self] in self?.tick() }
    }

    /// Applies the catch-up rules, loads every due time and arms the timer.
    public func start() throws {
        let (entries, skipped) = try store.prepareSchedule(
            now: clock.wall(), catchUpWindow: settings.catchUpWindowSeconds, cause: .downtime)
        if skipped > 0 { metrics?.occurrenceSkipped(reason: "outside_catch_up_window", count: skipped) }
        let running = runner.runningCount
        handle { $0.start(entries, at: $1, running: running) }
        logger.info("scheduler started", metadata: ["sources.scheduled": "\(entries.count)"])
    }

    /// Stops starting jobs (running ones are the runner's business).
    public func stop() {
        machine.withLock { $0.stop() }
        timer.cancel()
    }

    /// The due time the scheduler holds for a source (what `schedule.next_fire_time` shows).
    public func due(of sourceID: Int64) -> Date? { machine.withLock { $0.queue.due(of: sourceID) } }

    /// When the loop last ran (for health checks).
    public var lastTick: Date? { machine.withLock { $0.lastTickWall } }

    /// One turn of the loop: start what is due, within the start budget and the running cap.
    /// Runs on the timer's queue (tests call it directly).
    public func tick() {
        let running = runner.runningCount
        handle { $0.tick(at: $1, running: running) }
    }

    /// The store committed changes of these sources: take their due times.
    public func sourcesChanged(_ changes: [SourceChange]) {
        let running = runner.runningCount
        handle { $0.changed(changes.map { ($0.sourceID, $0.due) }, at: $1, running: running) }
    }

    /// A job ended: if due sources were waiting for a slot, start them now.
    public func jobEnded(_ job: JobRecord) {
        handle { machine, now in machine.jobEnded(at: now) }
    }

    /// `42 sources scheduled, 3 jobs running`.
    public var statusLine: String {
        "\(machine.withLock { $0.queue.count }) sources scheduled, \(runner.runningCount) jobs running"
    }

    /// Whether the loop ran recently enough (for `/healthz`).
    public func isLoopAlive(now: Date) -> Bool {
        guard let last = lastTick else { return true }  // not started yet (tests, start-up)
        return now.timeIntervalSince(last) <= machine.withLock { $0.settings.maxSleep } * 2 + 5
    }

    // MARK: Carrying out actions

    /// Feeds one event to the machine under the lock, arms the timer there (so the armed
    /// deadline is always the machine's latest), and carries out the other actions after the
    /// lock is released.
    private func handle(_ event: (inout SchedulerMachine, SchedulerMachine.Instant) -> [SchedulerMachine.Action]) {
        let now = SchedulerMachine.Instant(wall: clock.wall(), monotonic: clock.monotonic())
        let actions = machine.withLock { machine -> [SchedulerMachine.Action] in
            let actions = event(&machine, now)
            for case .arm(let deadline) in actions { timer.arm(at: deadline, now: now.wall) }
            return actions
        }
        for action in actions {
            switch action {
            case .arm: break
            case .claim(let due): claim(due, now: now)
            case .catchUp: catchUp(now: now)
            case .clockStepped(let seconds): clockStepped(seconds)
            case .feedWatchdog: report(now: now.wall)
            }
        }
    }

    private func claim(_ due: [SchedulerMachine.Due], now: SchedulerMachine.Instant) {
        let clientID = stitchClientID
        let batch: ClaimBatch
        do {
            batch = try store.claimScheduledStarts(
                due.map { ($0.sourceID, $0.occurrence) }, now: now.wall,
                jobName: { JobName.make(clientID: clientID, sourceID: $0, at: now.wall) })
        } catch {
            let level: Logger.Level = error is any StoreRefusal ? .warning : .error
            logger.log(level: level, "cannot claim due jobs; retrying", metadata: ["error": "\(error)", "jobs.count": "\(due.count)"])
            let running = runner.runningCount
            handle { machine, now in machine.claimFailed(at: now, running: running) }
            return
        }
        // Spawning is most of the cost of a start (the parent waits for each exec); spread a burst
        // over every core.
        let starts = batch.compactMap { result -> (JobRecord, SourceRecord)? in
            if case .started(let job, let source, _) = result { return (job, source) }
            return nil
        }
        DispatchQueue.concurrentPerform(iterations: starts.count) { i in
            runner.start(starts[i].0, source: starts[i].1)
        }
        machine.withLock { $0.claimed(batch.map { ($0.sourceID, $0.nextFire) }) }
        if batch.coalescedOccurrences > 0 { metrics?.occurrenceSkipped(reason: "coalesced", count: batch.coalescedOccurrences) }
        for result in batch {
            switch result {
            case .started: break
            case .skippedOverlap(let sourceID, _):
                metrics?.occurrenceSkipped(reason: "overlap")
                logger.info("occurrence skipped: a job is still running", metadata: ["source.id": "\(sourceID)"])
            case .notDue(_, _, let reason):
                // A moved occurrence was never due; a busy one is tried again: neither is skipped.
                if reason != .moved, reason != .busy { metrics?.occurrenceSkipped(reason: reason.rawValue) }
            }
        }
    }

    /// After a forward step of the wall clock: the catch-up rules of a restart, for the same
    /// reason (occurrences passed without a chance to run). The changed due times come back
    /// through the store's announcements.
    private func catchUp(now: SchedulerMachine.Instant) {
        do {
            let (_, skipped) = try store.prepareSchedule(
                now: now.wall, catchUpWindow: settings.catchUpWindowSeconds, cause: .clockStep)
            if skipped > 0 { metrics?.occurrenceSkipped(reason: "outside_catch_up_window", count: skipped) }
        } catch {
            // The start transaction still checks every due time; without the catch-up the
            // overdue sources simply run once each, coalesced.
            logger.error("cannot apply the catch-up rules after a clock step", metadata: ["error": "\(error)"])
        }
    }

    private func clockStepped(_ seconds: TimeInterval) {
        let direction = seconds > 0 ? "forward" : "backward"
        metrics?.clockStepped(direction: direction)
        logger.warning(
            "the wall clock stepped \(direction)",
            metadata: [
                "clock.step_seconds": "\(String(format: "%.3f", seconds))",
                "effect":
                    "\(seconds > 0 ? "catch-up rules applied to overdue sources" : "due times kept; occurrences already run do not run again")",
            ])
    }

    /// The systemd watchdog is fed from this loop, so a wedged loop gets the daemon restarted;
    /// the status line is refreshed at most every 10 seconds.
    private func report(now: Date) {
        guard let notifier, notifier.isActive else { return }
        notifier.watchdog()
        let due = lastStatus.withLock { last -> Bool in
            guard last.map({ abs(now.timeIntervalSince($0)) >= 10 }) ?? true else { return false }
            last = now
            return true
        }
        if due { notifier.status(statusLine) }
    }
}
