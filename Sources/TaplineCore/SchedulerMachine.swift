import Foundation

/// Every decision of the scheduler, as a value: events in, actions out, no threads, no timers,
/// no store. The shell (`Scheduler` in TaplineRuntime) feeds it the events under its one lock and
/// carries out the actions after releasing it.
///
/// It owns the due-queue (a hint: every start is re-checked by the start transaction), the start
/// budget, the armed deadline, the slot accounting and the detection of wall-clock steps.
///
/// Time comes in two readings (`Instant`): due times are wall-clock instants, because schedules
/// are; elapsed time (the budget's refill, step detection) is monotonic, because only the
/// monotonic clock cannot jump.
public struct SchedulerMachine: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Scheduled starts per second (a token bucket: a burst of this size starts at once).
        public var startsPerSecond: Double
        /// Jobs (scheduled or manual) that may run at once; due sources wait for a free slot.
        public var maxRunningJobs: Int
        /// The longest sleep: a clock step is noticed at most this late.
        public var maxSleep: TimeInterval
        /// The wall clock may drift from the monotonic clock by this much (seconds) plus 1 % of
        /// the elapsed time before a difference counts as a step: NTP slews by milliseconds per
        /// second, a step is a jump.
        public var stepTolerance: TimeInterval
        /// How long after a failed start transaction the next one is tried, at the least.
        public var claimRetryDelay: TimeInterval

        public init(
            startsPerSecond: Double, maxRunningJobs: Int, maxSleep: TimeInterval, stepTolerance: TimeInterval = 1,
            claimRetryDelay: TimeInterval = 0.5
        ) {
            self.startsPerSecond = max(1, startsPerSecond)
            self.maxRunningJobs = maxRunningJobs
            self.maxSleep = maxSleep
            self.stepTolerance = stepTolerance
            self.claimRetryDelay = claimRetryDelay
        }
    }

    /// One reading of both clocks.
    public struct Instant: Sendable, Equatable {
        public var wall: Date
        /// Seconds on a clock that never jumps (its origin is arbitrary).
        public var monotonic: TimeInterval
        public init(wall: Date, monotonic: TimeInterval) {
            self.wall = wall
            self.monotonic = monotonic
        }
    }

    /// One scheduled occurrence to start.
    public struct Due: Sendable, Equatable {
        public var sourceID: Int64
        public var occurrence: Date
        public init(sourceID: Int64, occurrence: Date) {
            self.sourceID = sourceID
            self.occurrence = occurrence
        }
    }

    public enum Action: Sendable, Equatable {
        /// Start these occurrences in one start transaction, then report `claimed` or
        /// `claimFailed`.
        case claim([Due])
        /// Wake (call `tick`) at this wall-clock instant.
        case arm(Date)
        /// The wall clock jumped forward: apply the catch-up rules to every overdue source (its
        /// changes come back as `changed`), then tick again.
        case catchUp
        /// The wall clock stepped by this many seconds (positive: forward); log and count it.
        case clockStepped(TimeInterval)
        /// The loop ran: tell the watchdog.
        case feedWatchdog
    }

    public let settings: Settings
    public private(set) var queue = DueQueue()
    /// The deadline last armed, while the timer is armed.
    public private(set) var armedFor: Date?
    private var tokens: Double
    private var lastRefill: TimeInterval?
    private var lastTick: Instant?
    private var started = false
    private var stopped = false
    /// Due sources were left waiting because every job slot was taken.
    private var waitingForSlot = false
    /// The occurrences of the claim in progress that no announced change has touched since they
    /// left the queue: a failed claim puts exactly these back.
    private var inFlight: [Int64: Date] = [:]

    public init(settings: Settings) {
        self.settings = settings
        self.tokens = settings.startsPerSecond
    }

    /// When the loop last ran (wall clock), for health checks.
    public var lastTickWall: Date? { lastTick?.wall }

    // MARK: Events

    /// The store's due times after the start-up catch-up: the loop begins.
    public mutating func start(_ entries: [(sourceID: Int64, due: Date)], at now: Instant, running: Int) -> [Action] {
        for entry in entries { queue.set(entry.sourceID, due: entry.due) }
        started = true
        stopped = false
        // The loop counts as alive from its start; its first tick may be a full sleep away.
        lastTick = now
        lastRefill = now.monotonic
        return arm(now: now, running: running).map { [$0] } ?? []
    }

    /// No more starts.
    public mutating func stop() {
        stopped = true
        armedFor = nil
    }

    /// Committed due times announced by the store, in commit order. Returns an earlier
    /// deadline when one of them is due before the armed one.
    public mutating func changed(_ changes: [(sourceID: Int64, due: Date?)], at now: Instant, running: Int) -> [Action] {
        var earliest: Date?
        for change in changes {
            queue.set(change.sourceID, due: change.due)
            inFlight[change.sourceID] = nil
            if let due = change.due, earliest.map({ due < $0 }) ?? true { earliest = due }
        }
        guard started, !stopped, let earliest, armedFor.map({ earliest < $0 }) ?? true else { return [] }
        return arm(now: now, running: running).map { [$0] } ?? []
    }

    /// One turn of the loop: what is due, within the start budget and the free slots.
    public mutating func tick(at now: Instant, running: Int) -> [Action] {
        defer { lastTick = now }
        armedFor = nil
        guard started, !stopped else { return [] }
        var actions: [Action] = [.feedWatchdog]
        if let last = lastTick {
            let wallElapsed = now.wall.timeIntervalSince(last.wall)
            let monotonicElapsed = max(0, now.monotonic - last.monotonic)
            let step = wallElapsed - monotonicElapsed
            if abs(step) > settings.stepTolerance + monotonicElapsed * 0.01 {
                actions.append(.clockStepped(step))
                if step > 0 {
                    // Overdue sources go through the catch-up rules, as after downtime, before
                    // anything starts; the next tick follows at once.
                    actions.append(.catchUp)
                    actions.append(.arm(now.wall))
                    armedFor = now.wall
                    return actions
                }
                // Backward: due times are wall instants and stay as they are (an occurrence
                // runs at most once, so the repeated hour does not run again); the deadline
                // below is computed from the new wall time.
            }
        }
        refill(now)
        let slots = max(0, settings.maxRunningJobs - running)
        let limit = min(Int(tokens.rounded(.down)), slots)
        waitingForSlot = slots == 0
        if limit > 0 {
            let due = queue.popDue(now: now.wall, limit: limit)
            if due.count == slots, let next = queue.earliest(), next <= now.wall { waitingForSlot = true }
            tokens -= Double(due.count)
            if !due.isEmpty {
                for entry in due { inFlight[entry.sourceID] = entry.due }
                actions.append(.claim(due.map { Due(sourceID: $0.sourceID, occurrence: $0.due) }))
            }
        }
        if let deadline = arm(now: now, running: running + claimCount(actions)) { actions.append(deadline) }
        return actions
    }

    /// The start transaction committed. Its own changes (and any that committed after it) have
    /// already been announced; `results` gives the due time of each claimed source no
    /// announcement touched (one the transaction found moved or paused, which it did not write).
    public mutating func claimed(_ results: [(sourceID: Int64, due: Date?)]) {
        for result in results where inFlight[result.sourceID] != nil {
            queue.set(result.sourceID, due: result.due)
        }
        inFlight = [:]
    }

    /// The start transaction failed and changed nothing: its occurrences go back, unless a
    /// change announced meanwhile already gave the source a newer due time. The next try comes `claimRetryDelay` later at the earliest: a claim that fails at once
    /// (a node without its lease, a database refusing connections) must not become a busy spin.
    public mutating func claimFailed(at now: Instant, running: Int) -> [Action] {
        for (sourceID, due) in inFlight where queue.due(of: sourceID) == nil { queue.set(sourceID, due: due) }
        inFlight = [:]
        guard case .arm(let deadline)? = arm(now: now, running: running) else { return [] }
        let retry = max(deadline, now.wall.addingTimeInterval(settings.claimRetryDelay))
        armedFor = retry
        return [.arm(retry)]
    }

    /// A job ended and freed its slot: if due sources were waiting for one, wake now.
    public mutating func jobEnded(at now: Instant) -> [Action] {
        guard waitingForSlot, started, !stopped else { return [] }
        waitingForSlot = false
        armedFor = now.wall
        return [.arm(now.wall)]
    }

    // MARK: Internals

    private func claimCount(_ actions: [Action]) -> Int {
        actions.reduce(0) { count, action in
            if case .claim(let due) = action { return count + due.count }
            return count
        }
    }

    private mutating func refill(_ now: Instant) {
        if let last = lastRefill {
            tokens = min(settings.startsPerSecond, tokens + max(0, now.monotonic - last) * settings.startsPerSecond)
        }
        lastRefill = now.monotonic
    }

    /// The next wake-up: the earliest due time, or when the budget allows the next start, or
    /// `maxSleep` from now when every slot is taken (a job's end wakes the loop earlier) or
    /// nothing is due sooner.
    private mutating func arm(now: Instant, running: Int) -> Action? {
        guard started, !stopped else { return nil }
        var deadline = now.wall.addingTimeInterval(settings.maxSleep)
        if let earliest = queue.earliest() {
            var wake = earliest
            if earliest <= now.wall {
                if tokens < 1 {
                    wake = now.wall.addingTimeInterval((1 - tokens) / settings.startsPerSecond)
                } else if running >= settings.maxRunningJobs {
                    wake = deadline
                }
            }
            deadline = min(deadline, wake)
        }
        armedFor = deadline
        return .arm(deadline)
    }
}
