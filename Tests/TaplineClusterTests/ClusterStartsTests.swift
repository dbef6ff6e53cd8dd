import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import TaplineTestSupport

@testable import TaplineCluster

/// Scheduled starts of several nodes in one PostgreSQL database, each node with its own pool as
/// separate processes would have.
@Suite("Cluster: scheduled starts across nodes", .enabled(if: PostgresServer.available, "needs PostgreSQL (apt-get install postgresql)"))
struct ClusterStartsTests {
    /// Every second, coalesced: the occurrence after the claimed one that is not in the past.
    static func everySecond(_ schedule: DueSchedule, _ now: Date) -> Date? {
        let next = schedule.occurrence.addingTimeInterval(1)
        return next > now ? next : Date(timeIntervalSince1970: (now.timeIntervalSince1970).rounded(.down) + 1)
    }

    @Test("a node without a valid lease starts nothing")
    func fencedNodeStartsNothing() async throws {
        try await withClusterDatabase { database in
            let membership = ClusterMembership(database: database)
            guard case .joined(let epoch) = try await membership.join(NodeIdentity(name: "n", address: "a"), lease: 30) else {
                Issue.record("join refused")
                return
            }
            try await database.client.query(
                "INSERT INTO sources (name, display_name, type, next_fire_at) VALUES ('s1', 'S1', 'demo', now() - interval '1 second')")
            let starts = ClusterStarts(database: database)
            await #expect(throws: ClusterStartError.fenced(node: "n", epoch: epoch + 1)) {
                _ = try await starts.claimDue(node: "n", epoch: epoch + 1, limit: 10, jobName: { source, _ in "j\(source)" }, nextFire: Self.everySecond)
            }
            try await database.client.query("UPDATE nodes SET lease_expires_at = now(), renewed_at = now()")
            await #expect(throws: ClusterStartError.self) {
                _ = try await starts.claimDue(node: "n", epoch: epoch, limit: 10, jobName: { source, _ in "j\(source)" }, nextFire: Self.everySecond)
            }
            #expect(try await Self.count(database, "SELECT count(*) FROM jobs") == 0)
        }
    }

    @Test("a dead node's running jobs end as interrupted once, after its lease and the grace; its epoch starts nothing more")
    func reap() async throws {
        try await withClusterDatabase { database in
            let membership = ClusterMembership(database: database)
            guard case .joined(let epoch) = try await membership.join(NodeIdentity(name: "dying", address: "a"), lease: 60),
                case .joined = try await membership.join(NodeIdentity(name: "alive", address: "b"), lease: 60)
            else {
                Issue.record("join refused")
                return
            }
            try await database.client.query(
                """
                INSERT INTO sources (name, display_name, type, next_fire_at)
                SELECT 's' || g, 'S' || g, 'demo', now() - interval '1 second' FROM generate_series(1, 3) g
                """)
            let starts = ClusterStarts(database: database)
            let claims = try await starts.claimDue(
                node: "dying", epoch: epoch, limit: 10, jobName: { source, _ in "j\(source)" }, nextFire: Self.everySecond)
            #expect(claims.count == 3)
            #expect(try await membership.reapExpired(grace: 0).isEmpty, "the lease still runs")

            // Its lease ends (set in the database rather than waited for: no sleep to race).
            try await database.client.query(
                "UPDATE nodes SET lease_expires_at = now() - interval '1 second', renewed_at = now() - interval '2 seconds' WHERE name = 'dying'")
            #expect(try await membership.reapExpired(grace: 60).isEmpty, "inside the grace")
            #expect(try await membership.reapExpired(grace: 0) == [.init(name: "dying", epoch: epoch, interruptedJobs: 3)])
            #expect(try await membership.reapExpired(grace: 0).isEmpty, "once per epoch")
            for try await (status, count) in try await database.client.query(
                "SELECT status, count(*) FROM jobs GROUP BY status"
            ).decode((String, Int).self) {
                #expect(status == "interrupted" && count == 3)
            }
            await #expect(throws: ClusterStartError.fenced(node: "dying", epoch: epoch)) {
                _ = try await starts.claimDue(node: "dying", epoch: epoch, limit: 10, jobName: { s, _ in "k\(s)" }, nextFire: Self.everySecond)
            }
        }
    }

    @Test("three nodes claiming at once: one start per occurrence, none inside an acknowledged pause, work spread by SKIP LOCKED")
    func threeNodes() async throws {
        try await withClusterDatabase { database in
            var logger = Logger(label: "test")
            logger.logLevel = .error
            // Nodes 2 and 3 get pools of their own.
            let pools = [database] + (0..<2).map { _ in
                ClusterDatabase(location: database.location, password: PostgresServer.password, logger: logger)
            }
            try await database.client.query(
                """
                INSERT INTO sources (name, display_name, type, next_fire_at)
                SELECT 's' || g, 'S' || g, 'demo', date_trunc('second', now()) FROM generate_series(1, 40) g
                """)
            let tally = Tally()
            // The pauser checks at least `pauses` pauses, for at least `duration` seconds (at most
            // 60: a loaded machine makes every step slower), then stops everyone.
            let duration = 4.0
            let pauses = 12

            try await withThrowingTaskGroup(of: Void.self) { group in
                for pool in pools.dropFirst() { group.addTask { await pool.run() } }
                var work: [Task<Void, Never>] = []
                for (k, pool) in pools.enumerated() {
                    work.append(Task {
                        do {
                            let name = "node-\(k + 1)"
                            guard case .joined(let epoch) = try await ClusterMembership(database: pool).join(
                                NodeIdentity(name: name, address: "127.0.0.1:\(7200 + k)"), lease: 60)
                            else { throw ClusterError.unexpected("join refused") }
                            let starts = ClusterStarts(database: pool)
                            var n = 0
                            while !tally.stop.load(ordering: .relaxed) {
                                let claims = try await starts.claimDue(
                                    node: name, epoch: epoch, limit: 8,
                                    jobName: { source, _ in "\(name)-\(source)-\(UUID().uuidString)" },
                                    nextFire: Self.everySecond)
                                for case .started(_, let jobID, _, _, _) in claims {
                                    n += 1
                                    // Most jobs end at once; every fifth runs into its next occurrence.
                                    if n % 5 != 0 {
                                        try await pool.client.query("UPDATE jobs SET status = 'succeeded', completed_at = now() WHERE id = \(jobID)")
                                    } else {
                                        let id = jobID
                                        Task {
                                            try? await Task.sleep(for: .milliseconds(1_200))
                                            _ = try? await pool.client.query("UPDATE jobs SET status = 'succeeded', completed_at = now() WHERE id = \(id)")
                                        }
                                    }
                                }
                                try await Task.sleep(for: .milliseconds(5))
                            }
                        } catch {
                            tally.errors.withLock { $0.append("node-\(k + 1): \(String(reflecting: error))") }
                        }
                    })
                }
                // The pauser: pause, count the source's scheduled jobs, wait, count again.
                work.append(Task {
                    var random = SystemRandomNumberGenerator()
                    let begin = Date()
                    defer { tally.stop.store(true, ordering: .relaxed) }
                    do {
                        while Date().timeIntervalSince(begin) < 60,
                            Date().timeIntervalSince(begin) < duration || tally.pausesChecked.load(ordering: .relaxed) < pauses
                        {
                            let source = Int64.random(in: 1...40, using: &random)
                            let pool = pools[Int.random(in: 0..<3, using: &random)]
                            try await pool.client.query("UPDATE sources SET paused_at = now(), next_fire_at = NULL, retry_attempt = NULL WHERE id = \(source)")
                            let before = try await Self.scheduledJobs(pool, source)
                            try await Task.sleep(for: .milliseconds(Int.random(in: 20...300, using: &random)))
                            let after = try await Self.scheduledJobs(pool, source)
                            if after != before { tally.violations.withLock { $0.append("source \(source): \(after - before) start(s) while paused") } }
                            tally.pausesChecked.add(1, ordering: .relaxed)
                            try await pool.client.query(
                                "UPDATE sources SET paused_at = NULL, next_fire_at = date_trunc('second', now()) + interval '1 second' WHERE id = \(source)")
                        }
                    } catch {
                        tally.errors.withLock { $0.append("pauser: \(String(reflecting: error))") }
                    }
                })
                for task in work { await task.value }
                group.cancelAll()
            }

            #expect(tally.errors.withLock { $0 } == [])
            #expect(tally.violations.withLock { $0 } == [])
            #expect(tally.pausesChecked.load(ordering: .relaxed) >= pauses)
            var perNode: [String: Int] = [:]
            for try await (node, count) in try await database.client.query("SELECT node, count(*) FROM jobs GROUP BY node").decode((String, Int).self) {
                perNode[node] = count
            }
            #expect(perNode.count == 3, "every node started jobs: \(perNode)")
            let duplicates = try await Self.count(
                database, "SELECT count(*) FROM (SELECT source_id, scheduled_for FROM jobs GROUP BY 1, 2 HAVING count(*) > 1) d")
            #expect(duplicates == 0)
            let running = try await Self.count(
                database, "SELECT count(*) FROM (SELECT source_id FROM jobs WHERE status = 'running' GROUP BY 1 HAVING count(*) > 1) d")
            #expect(running == 0)
            let total = perNode.values.reduce(0, +)
            #expect(total >= 40, "\(total) jobs in \(duration) s for 40 every-second sources")
        }
    }

    /// What the node and pauser tasks found, shared with the test.
    final class Tally: Sendable {
        let violations = Mutex<[String]>([])
        let errors = Mutex<[String]>([])
        let pausesChecked = Atomic<Int>(0)
        /// Set by the pauser once it has checked enough pauses: the nodes then stop.
        let stop = Atomic<Bool>(false)
    }

    static func scheduledJobs(_ pool: ClusterDatabase, _ source: Int64) async throws -> Int {
        try await count(pool, "SELECT count(*) FROM jobs WHERE source_id = \(source) AND trigger = 'scheduled'")
    }

    /// The single integer a `SELECT count(*)` answers.
    static func count(_ pool: ClusterDatabase, _ query: PostgresQuery) async throws -> Int {
        for try await count in try await pool.client.query(query).decode(Int.self) { return count }
        throw ClusterError.unexpected("a count returned no row")
    }
}
