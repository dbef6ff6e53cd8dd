import Foundation
import Logging
import Synchronization
import TaplineCore

/// One node's life in the cluster: join, renew on time, fence on time.
///
/// Two loops, so that a renewal that hangs (the database unreachable, a connection stuck in
/// the kernel) cannot delay the fence: the renewer sends a renewal every `renewInterval` with
/// its send time, and the watch wakes at the hold's fence point (at least every 100 ms),
/// whatever the renewer is doing; a join is announced at once. `onPhase` hears every change
/// between held and fenced: on `.fenced` the node stops
/// starting jobs and stops its running ones; on `.held` (after a join) it may start again.
/// A refused renewal (the lease expired, or another life took the name) makes the node join
/// again, with a new epoch. `onRenewal` hears the fence point each acknowledged renewal sets,
/// for the job guard, which ends the node's jobs there if the node itself is frozen.
public final class ClusterNode: Sendable {
    public typealias Clock = @Sendable () -> Double

    private struct State {
        var hold: LeaseHold
        var epoch: Int64?
        var announced: LeaseHold.Phase = .fenced
        /// Announcements begun; one that finds a later one begun does not record its outcome.
        var announcements = 0
        /// The epoch `onPhase(.held, epoch)` has returned for, until a fence is announced.
        var serving: Int64?
    }

    private let membership: ClusterMembership
    public let identity: NodeIdentity
    public let timings: LeaseTimings
    private let clock: Clock
    private let logger: Logger
    private let onPhase: @Sendable (LeaseHold.Phase, Int64?) -> Void
    private let onRenewal: @Sendable (_ fenceAt: Double) -> Void
    private let state: Mutex<State>

    public init(
        membership: ClusterMembership, identity: NodeIdentity, timings: LeaseTimings, logger: Logger,
        clock: @escaping Clock = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 },
        onRenewal: @escaping @Sendable (_ fenceAt: Double) -> Void = { _ in },
        onPhase: @escaping @Sendable (LeaseHold.Phase, Int64?) -> Void
    ) {
        self.onRenewal = onRenewal
        self.membership = membership
        self.identity = identity
        self.timings = timings
        self.clock = clock
        self.logger = logger
        self.onPhase = onPhase
        state = Mutex(State(hold: LeaseHold(timings: timings)))
    }

    /// The phase now, on the node's clock.
    public var phase: LeaseHold.Phase {
        let now = clock()
        return state.withLock { $0.hold.phase(at: now) }
    }

    /// The epoch of the current membership, `nil` before the join or after a lost lease.
    public var epoch: Int64? { state.withLock { $0.epoch } }

    /// The epoch the node serves under: set once `onPhase(.held, epoch)` has returned (what it
    /// does is done, e.g. the store starts jobs under that epoch), `nil` from a fence on. What
    /// waits for the node to be ready waits for this, not for `phase`, which turns `.held` a
    /// moment before `onPhase` has run.
    public var servingEpoch: Int64? { state.withLock { $0.serving } }

    /// Records the address the node's API is reached at, once it listens.
    public func advertise(address: String) async throws {
        try await membership.advertise(identity, address: address)
    }

    /// Runs until cancelled, then leaves the cluster (a clean stop frees the name at once).
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.renewLoop() }
            group.addTask { await self.watchLoop() }
            await group.next()
            group.cancelAll()
        }
        let epoch = state.withLock { state -> Int64? in
            defer {
                state.hold.lost()
                state.epoch = nil
            }
            return state.epoch
        }
        announce()
        if let epoch {
            // In a task of its own: this one is cancelled, and a cancelled task's query is refused.
            let (membership, name, logger) = (membership, identity.name, logger)
            await Task {
                do {
                    try await membership.leave(name: name, epoch: epoch)
                } catch {
                    logger.warning("cannot leave the cluster; the lease will expire", metadata: ["error": "\(error)"])
                }
            }.value
        }
    }

    private func renewLoop() async {
        // A call still unanswered after a whole lease can hold nothing any more (the lease counts
        // from its send time); the renewer gives up on it and sends the next, so a query stuck on
        // a dying connection cannot stop the node from rejoining.
        let limit = Duration.milliseconds(Int64(timings.duration * 1000))
        let membership = self.membership
        let identity = self.identity
        let timings = self.timings
        while !Task.isCancelled {
            let sentAt = clock()
            let epoch = state.withLock { $0.epoch }
            do {
                if let epoch {
                    if try await withDeadline(
                        limit, "a lease renewal",
                        {
                            try await membership.renew(name: identity.name, epoch: epoch, lease: timings.duration)
                        })
                    {
                        renewed(sentAt: sentAt)
                    } else {
                        logger.warning(
                            "cluster lease lost; stopping jobs and joining again",
                            metadata: ["node.name": "\(identity.name)", "node.epoch": "\(epoch)"])
                        state.withLock {
                            $0.hold.lost()
                            $0.epoch = nil
                        }
                        announce()
                        continue  // join at once
                    }
                } else {
                    switch try await withDeadline(limit, "a join", { try await membership.join(identity, lease: timings.duration) }) {
                    case .joined(let epoch):
                        state.withLock { $0.epoch = epoch }
                        renewed(sentAt: sentAt)
                        logger.info("joined the cluster", metadata: ["node.name": "\(identity.name)", "node.epoch": "\(epoch)"])
                        announce()  // at once, not at the watch's next wake-up
                    case .heldByAnother(let instance, let until):
                        logger.warning(
                            "another process holds this node's name; waiting for its lease to end",
                            metadata: ["node.name": "\(identity.name)", "holder": "\(instance)", "until": "\(until)"])
                    }
                }
            } catch {
                // A stop cancels the call in flight; that is not the database's fault.
                guard !Task.isCancelled else { return }
                logger.warning("cannot reach the cluster database", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(max(0.01, timings.renewInterval - (clock() - sentAt))))
        }
    }

    /// Counts an acknowledged renewal (or join) and tells `onRenewal` the fence point it sets.
    private func renewed(sentAt: Double) {
        let fenceAt = state.withLock { state -> Double? in
            state.hold.renewed(sentAt: sentAt)
            return state.hold.fenceAt
        }
        if let fenceAt { onRenewal(fenceAt) }
    }

    /// Wakes at the fence point, or after 100 ms, and announces a change of phase.
    private func watchLoop() async {
        while !Task.isCancelled {
            announce()
            let now = clock()
            let fenceAt = state.withLock { $0.hold.fenceAt }
            let wait = min(0.1, fenceAt.map { max(0.001, $0 - now) } ?? 0.1)
            try? await Task.sleep(for: .seconds(wait))
        }
    }

    /// Tells `onPhase` when the phase differs from the last one told.
    private func announce() {
        let now = clock()
        let change = state.withLock { state -> (LeaseHold.Phase, Int64?, Int)? in
            let phase = state.hold.phase(at: now)
            guard phase != state.announced else { return nil }
            state.announced = phase
            state.announcements += 1
            // Not serving from the moment a fence is decided, before its stops have run.
            if phase == .fenced { state.serving = nil }
            return (phase, state.epoch, state.announcements)
        }
        guard let (phase, epoch, number) = change else { return }
        if phase == .fenced {
            logger.warning(
                "cluster lease about to end: starting nothing, stopping running jobs", metadata: ["node.name": "\(identity.name)"])
        }
        onPhase(phase, epoch)
        if phase == .held {
            state.withLock { if $0.announcements == number { $0.serving = epoch } }
        }
    }
}
