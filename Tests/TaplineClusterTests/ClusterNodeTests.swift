import Foundation
import Synchronization
import TaplineCore
import TaplineTestSupport
import Testing

@testable import TaplineCluster

/// A node's lease loops against a real PostgreSQL: it fences itself on its own clock, before
/// the lease the database granted runs out, even while its renewals hang.
@Suite("Cluster: a node's lease and fence", .enabled(if: PostgresServer.available, "needs PostgreSQL (apt-get install postgresql)"))
struct ClusterNodeTests {
    /// Phase changes as the node announced them, with the monotonic instant.
    final class Phases: Sendable {
        let seen = Mutex<[(phase: LeaseHold.Phase, epoch: Int64?, at: Double)]>([])
        func record(_ phase: LeaseHold.Phase, _ epoch: Int64?) {
            seen.withLock { $0.append((phase, epoch, now())) }
        }
        var all: [(phase: LeaseHold.Phase, epoch: Int64?, at: Double)] { seen.withLock { $0 } }
        func waitFor(_ phase: LeaseHold.Phase, epoch: Int64?, timeout: Double = 20) async throws {
            let deadline = now() + timeout
            while now() < deadline {
                if all.contains(where: { $0.phase == phase && $0.epoch == epoch }) { return }
                try await Task.sleep(for: .milliseconds(20))
            }
            Issue.record("no \(phase) with epoch \(epoch.map(String.init) ?? "nil") within \(timeout) s: \(all)")
        }
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    @Test("joins and holds, is fenced and joins again when its lease is taken, leaves at stop")
    func lifecycle() async throws {
        try await withClusterDatabase { database in
            let membership = ClusterMembership(database: database)
            let phases = Phases()
            let node = ClusterNode(
                membership: membership, identity: NodeIdentity(name: "n1", address: "127.0.0.1:7100"),
                timings: LeaseTimings(duration: 10, renewInterval: 0.2, stopGrace: 1, safety: 1), logger: .init(label: "test"),
                onPhase: { phases.record($0, $1) })
            let running = Task { await node.run() }
            try await phases.waitFor(.held, epoch: 1)

            // The lease ends under the node (as when the others judged it dead): its next
            // renewal is refused, it fences and joins with a new epoch.
            try await database.client.query(
                "UPDATE nodes SET lease_expires_at = now() - interval '1 second', renewed_at = now() - interval '2 seconds'")
            try await phases.waitFor(.fenced, epoch: nil)
            try await phases.waitFor(.held, epoch: 2)

            running.cancel()
            await running.value
            let members = try await membership.members()
            #expect(members.count == 1 && members[0].leftAt != nil && members[0].epoch == 2)
            #expect(phases.all.last?.phase == .fenced)
        }
    }

    @Test("the node serves under an epoch only once onPhase(.held) has returned, and stops serving when a fence is decided")
    func servingFollowsTheAnnouncement() async throws {
        try await withClusterDatabase { database in
            let membership = ClusterMembership(database: database)
            let announced = Mutex<[String]>([])
            let node = ClusterNode(
                membership: membership, identity: NodeIdentity(name: "n1", address: "127.0.0.1:7100"),
                timings: LeaseTimings(duration: 10, renewInterval: 0.2, stopGrace: 1, safety: 1), logger: .init(label: "test"),
                onPhase: { phase, epoch in
                    // What a node does on a phase takes time (the store's switch, stopping jobs).
                    Thread.sleep(forTimeInterval: 0.3)
                    announced.withLock { $0.append("\(phase) \(epoch.map(String.init) ?? "-")") }
                })
            let running = Task { await node.run() }
            var heldBeforeServing = false
            let deadline = Self.now() + 20
            while node.servingEpoch == nil, Self.now() < deadline {
                if node.phase == .held { heldBeforeServing = true }
                try await Task.sleep(for: .milliseconds(2))
            }
            #expect(node.servingEpoch == 1)
            #expect(announced.withLock { $0 } == ["held 1"], "serving before onPhase(.held) returned")
            #expect(heldBeforeServing, "the computed phase turns held before the announcement has run")

            try await database.client.query(
                "UPDATE nodes SET lease_expires_at = now() - interval '1 second', renewed_at = now() - interval '2 seconds'")
            while node.servingEpoch != nil, Self.now() < deadline + 20 {
                try await Task.sleep(for: .milliseconds(2))
            }
            // Not serving from the decision on, while the fence's own work still runs.
            #expect(node.servingEpoch == nil)
            while node.servingEpoch == nil, Self.now() < deadline + 40 {
                try await Task.sleep(for: .milliseconds(2))
            }
            #expect(node.servingEpoch == 2)
            #expect(announced.withLock { $0 } == ["held 1", "fenced -", "held 2"])
            running.cancel()
            await running.value
            #expect(node.servingEpoch == nil)
        }
    }

    @Test("with the database unreachable, the node fences on time, before its lease ends, and rejoins after")
    func fencesWhileUnreachable() async throws {
        let server = try PostgresServer.shared.get()
        try await withClusterDatabase { database in
            let timings = LeaseTimings(duration: 4, renewInterval: 0.25, stopGrace: 0.5, safety: 1)
            let phases = Phases()
            let node = ClusterNode(
                membership: ClusterMembership(database: database), identity: NodeIdentity(name: "n2", address: "127.0.0.1:7101"),
                timings: timings, logger: .init(label: "test"), onPhase: { phases.record($0, $1) })
            let running = Task { await node.run() }
            try await phases.waitFor(.held, epoch: 1)
            try await Task.sleep(for: .milliseconds(600))

            // Cut the node off: no new connections to its database, the open ones closed.
            let name = database.location.database
            let cut = Self.now()
            try server.superuser("ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
            try server.superuser("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'")
            try await phases.waitFor(.fenced, epoch: 1)
            let fencedAt = phases.all.first { $0.phase == .fenced }!.at
            // The last renewal that could have been acknowledged was sent before the cut, so the
            // fence point is at most duration - (stop grace + safety) = 2.5 s after it. What
            // must hold is that a stop begun at the fence ends before the lease does: fenced at
            // most duration - stop grace = 3.5 s after the cut (the safety absorbs a late wake-up
            // of the watch on a loaded machine).
            #expect(fencedAt - cut >= 0)
            #expect(fencedAt - cut <= timings.duration - timings.stopGrace, "fenced \(fencedAt - cut) s after the cut")
            #expect(node.phase == .fenced)

            // Back within the lease the database granted, the same epoch renews; after it, a
            // new epoch joins. Either way the node holds again.
            try server.superuser("ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
            let deadline = Self.now() + 30
            while Self.now() < deadline, !(phases.all.last.map { $0.phase == .held && $0.at > fencedAt } ?? false) {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(phases.all.last?.phase == .held, "\(phases.all)")
            running.cancel()
            await running.value
        }
    }
}
