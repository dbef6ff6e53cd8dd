/// How long a node of a cluster may act on its membership, judged on its own monotonic clock.
///
/// The database grants a lease until `now() + duration` at each renewal. The node cannot read
/// the database's clock, so it counts the lease from the moment it *sent* the renewal: the
/// database's `now()` was at or after that, so the node's view of the expiry is never later
/// than the database's (up to the drift of two clocks over one lease, which `safety` covers).
///
/// Fencing: the other nodes treat this one as dead once its lease has expired (plus their grace),
/// and then mark its jobs interrupted and run its schedule. So before its lease runs out the node
/// must have stopped starting jobs and stopped the ones it runs. `fenceAt` is that moment: the
/// expiry as the node sees it, minus the time a stop takes (`stopGrace`, SIGTERM to SIGKILL)
/// and `safety`.
public struct LeaseTimings: Sendable, Equatable {
    /// The length of a lease granted by one renewal.
    public var duration: Double
    /// How often the node renews; several renewals fit in one lease, so one slow or lost
    /// renewal does not fence the node.
    public var renewInterval: Double
    /// How long stopping a job may take (the job runner's stop grace).
    public var stopGrace: Double
    /// Room for clock drift and scheduling delay between deciding to stop and the kill.
    public var safety: Double

    public init(duration: Double = 30, renewInterval: Double = 5, stopGrace: Double = 10, safety: Double = 2) {
        self.duration = duration
        self.renewInterval = renewInterval
        self.stopGrace = stopGrace
        self.safety = safety
    }

    /// How long before the (node-side) expiry the node fences itself.
    public var fenceMargin: Double { stopGrace + safety }

    /// Why these timings cannot keep the promise, or `nil` when they can: the node must be able
    /// to miss a renewal and still have time to stop its jobs before the lease runs out.
    public var problem: String? {
        guard duration > 0, renewInterval > 0, stopGrace >= 0, safety >= 0 else {
            return "lease timings must be positive"
        }
        guard duration - fenceMargin >= 2 * renewInterval else {
            return
                "lease_seconds (\(duration)) must be at least twice renew_seconds (\(renewInterval)) plus the stop grace (\(stopGrace)) and \(safety) s of safety, so that one missed renewal does not stop the node's jobs"
        }
        return nil
    }
}

/// A node's hold on its lease: when the last successful renewal was sent, on the node's
/// monotonic clock (seconds).
public struct LeaseHold: Sendable, Equatable {
    public enum Phase: Sendable, Equatable {
        /// Start jobs and run them.
        case held
        /// Start nothing; stop every running job now. The lease may still be valid in the
        /// database, but not for long enough to stop jobs later.
        case fenced
    }

    public let timings: LeaseTimings
    /// When the renewal that the database last acknowledged was sent; `nil`: never held.
    public private(set) var renewalSentAt: Double?

    public init(timings: LeaseTimings) {
        self.timings = timings
    }

    /// The database acknowledged a renewal (or the join) sent at `sentAt`. An acknowledgement of
    /// an older request than the one already counted changes nothing.
    public mutating func renewed(sentAt: Double) {
        if let current = renewalSentAt, current >= sentAt { return }
        renewalSentAt = sentAt
    }

    /// The database refused a renewal: the lease is gone (it expired or the node was taken
    /// over). Fenced until a new join.
    public mutating func lost() {
        renewalSentAt = nil
    }

    /// When the node must have begun stopping its jobs; `nil` when it holds no lease.
    public var fenceAt: Double? {
        renewalSentAt.map { $0 + timings.duration - timings.fenceMargin }
    }

    /// When the lease runs out as the node sees it (never later than the database's expiry).
    public var expiresAt: Double? {
        renewalSentAt.map { $0 + timings.duration }
    }

    public func phase(at now: Double) -> Phase {
        guard let fenceAt, now < fenceAt else { return .fenced }
        return .held
    }
}
