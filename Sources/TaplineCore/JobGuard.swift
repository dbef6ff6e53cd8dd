/// The decisions of a node's job guard: a small process beside a cluster node's daemon that ends
/// the node's jobs when the daemon can no longer be trusted to (DESIGN §6, fencing).
///
/// A node must have stopped its jobs before its lease runs out, because the others then mark
/// them interrupted and start their sources again. The daemon's own fence does that, but a
/// daemon that is frozen (SIGSTOP, a paused VM, a stall) runs no fence while its jobs, separate
/// processes, go on writing. So the daemon tells the guard, at each renewal, when it would
/// fence (`fenceAt`, on the machine's monotonic clock); the guard terminates every job of the
/// node at that moment unless it hears of a later one, and kills what is left `grace` seconds
/// later, so that by the lease's end (`fenceAt + stop grace + safety`) nothing of the node runs.
/// A daemon that is gone (its end of the pipe closed: a crash, a kill, a stop) leaves its jobs
/// to the guard at once.
///
/// Pure: the guard's process feeds it the daemon's messages and the clock, and carries out its
/// actions (`JobGuardWatch`).
public struct JobGuard: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// SIGTERM every job process of the node, and remember which they were.
        case terminate
        /// SIGKILL those of the terminated ones still alive.
        case kill
        /// The daemon is gone and nothing is left to do: exit.
        case exit
    }

    /// How long terminated jobs have before they are killed (the runner's stop grace).
    public let grace: Double
    /// When the jobs are terminated unless the daemon moves it; `nil`: no lease told yet, or
    /// acted on.
    public private(set) var fenceAt: Double?
    /// When the terminated jobs are killed.
    public private(set) var killAt: Double?
    public private(set) var daemonGone = false

    public init(grace: Double) {
        self.grace = max(0, grace)
    }

    /// The daemon renewed its lease: its fence is now at `fenceAt`. An earlier time than the
    /// one held is taken too (a new life's first lease).
    public mutating func renewed(fenceAt: Double) {
        guard !daemonGone else { return }
        self.fenceAt = fenceAt
    }

    /// The daemon's end of the pipe closed.
    public mutating func daemonEnded(now: Double) {
        guard !daemonGone else { return }
        daemonGone = true
        fenceAt = now
    }

    /// What to do at `now`, in order.
    public mutating func step(now: Double) -> [Action] {
        var actions: [Action] = []
        if let killAt, now >= killAt {
            actions.append(.kill)
            self.killAt = nil
        }
        if let fenceAt, now >= fenceAt {
            actions.append(.terminate)
            self.fenceAt = nil
            // A kill still pending is kept: it then covers these processes too, sooner.
            if grace == 0 {
                actions.append(.kill)
            } else if killAt == nil {
                killAt = now + grace
            }
        }
        if daemonGone, fenceAt == nil, killAt == nil { actions.append(.exit) }
        return actions
    }

    /// When `step` has something to do next, `nil` when only a message can change anything.
    public var wakeAt: Double? {
        switch (fenceAt, killAt) {
        case (let fence?, let kill?): return min(fence, kill)
        case (let fence?, nil): return fence
        case (nil, let kill?): return kill
        case (nil, nil): return nil
        }
    }
}
