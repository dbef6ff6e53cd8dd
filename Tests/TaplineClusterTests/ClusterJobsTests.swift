import Foundation
import PostgresNIO
import Synchronization
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineCluster

/// What the shared suite (`Store: a job's life`) cannot show with one store: jobs started from
/// several nodes, and a node without a valid lease.
@Suite("Cluster: jobs from several nodes", .enabled(if: PostgresServer.available, "needs PostgreSQL (apt-get install postgresql)"))
struct ClusterJobsTests {
    static let catalog = ClusterStoreTests.catalog

    static func source(_ store: ClusterStore, _ name: String) async throws -> SourceRecord {
        try await store.createSource(try ClusterStoreTests.new(name), actor: ClusterStoreTests.actor, now: Date())
    }

    @Test("a node without a valid lease starts no manual job; the job names the node that started it")
    func fencedManualStarts() async throws {
        try await withClusterStore(catalog: Self.catalog) { store, database in
            try await store.createInitialDestination(type: "jsonl", properties: [:], credentials: [:], now: Date())
            let source = try await Self.source(store, "Shop")
            await #expect(throws: ClusterStartError.self) {
                try await store.startManualJob(sourceID: source.id, now: Date(), jobName: "before-join")
            }
            let membership = ClusterMembership(database: database)
            try await store.joinForTests(membership, name: "n1")
            guard case .started(let job, _) = try await store.startManualJob(sourceID: source.id, now: Date(), jobName: "held")
            else {
                Issue.record("not started")
                return
            }
            let node = try await Self.nodeOf(job.id, database)
            #expect(node?.name == "n1" && node?.epoch == store.membership?.epoch)
            try await store.recordCompletions([(job.id, .stopped(at: Date()))], policy: CompletionPolicy())

            // The lease ran out in the database (the node's clock thinks it still holds it).
            try await database.client.query(
                "UPDATE nodes SET renewed_at = now() - interval '2 seconds', lease_expires_at = now() - interval '1 second'",
                logger: database.logger)
            await #expect(throws: ClusterStartError.fenced(node: "n1", epoch: store.membership!.epoch)) {
                try await store.startManualJob(sourceID: source.id, now: Date(), jobName: "expired")
            }
            #expect(try await store.job(name: "expired") == nil)
        }
    }

    @Test("manual starts of one source from two nodes at once: one job runs, every other start is told so")
    func concurrentManualStarts() async throws {
        try await Self.withTwoNodes { first, second, database in
            let source = try await Self.source(first, "Shop")
            for round in 0..<10 {
                let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                    for index in 0..<6 {
                        let store = index.isMultiple(of: 2) ? first : second
                        group.addTask {
                            switch try await store.startManualJob(sourceID: source.id, now: Date(), jobName: "r\(round).\(index)") {
                            case .started(let job, _): return "started \(job.id)"
                            case .alreadyRunning: return "running"
                            case let other: return "\(other)"
                            }
                        }
                    }
                    return try await group.reduce(into: [String]()) { $0.append($1) }
                }
                let started = outcomes.filter { $0.hasPrefix("started") }
                #expect(started.count == 1 && outcomes.filter { $0 == "running" }.count == 5, "round \(round): \(outcomes)")
                let running = try await first.jobs(sourceID: source.id, page: 1, perPage: 100, filter: JobFilter(statuses: [.running]))
                #expect(running.total == 1)
                try await second.recordCompletions([(running.jobs[0].id, .stopped(at: Date()))], policy: CompletionPolicy())
            }
        }
    }

    @Test("completions that write the source row, racing manual starts on another node: no deadlock, never two running jobs")
    func completionsRaceStarts() async throws {
        try await Self.withTwoNodes { first, second, database in
            var created: [Int64] = []
            for i in 0..<2 { created.append(try await Self.source(first, "s\(i)").id) }
            let sources = created
            // Each node starts jobs of every source and completes whatever it started, as
            // fast as it can; each completion clears a system pause (so it writes the source
            // row a start on the other node holds) and applies a retention policy.
            let stores = [first, second]
            let started = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<2 {
                    let store = stores[index]
                    group.addTask {
                        var count = 0
                        for step in 0..<60 {
                            let sourceID = sources[(step / 3) % sources.count]  // both nodes on one source at a time
                            guard
                                case .started(let job, _) = try await store.startManualJob(
                                    sourceID: sourceID, now: Date(), jobName: "n\(index).\(step)")
                            else { continue }
                            count += 1
                            // A manual success clears a system pause: the completion writes the source row.
                            try await store.systemPause(sourceID: sourceID, reason: "held", now: Date())
                            try await store.recordCompletions(
                                [(job.id, JobOutcome(status: .succeeded, completedAt: Date(), tapExitStatus: 0, targetExitStatus: 0))],
                                policy: CompletionPolicy(keepLogsPerSource: 2))
                        }
                        return count
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(started > 0)
            for sourceID in sources {
                let running = try await first.jobs(sourceID: sourceID, page: 1, perPage: 100, filter: JobFilter(statuses: [.running]))
                #expect(running.total == 0)
            }
        }
    }

    @Test("a node's new life interrupts the running jobs of its earlier lives, not its own nor other nodes'")
    func bootSweep() async throws {
        try await Self.withTwoNodes { store, other, database in
            let membership = ClusterMembership(database: database)
            let a = try await Self.source(store, "a")
            let b = try await Self.source(store, "b")
            let c = try await Self.source(store, "c")
            guard case .started(let old, _) = try await store.startManualJob(sourceID: a.id, now: Date(), jobName: "old") else {
                Issue.record("not started")
                return
            }
            guard case .started = try await other.startManualJob(sourceID: b.id, now: Date(), jobName: "theirs") else {
                Issue.record("not started")
                return
            }
            // A restart: the killed life's lease ran out, and the new process takes the name
            // with a new epoch.
            try await database.client.query(
                "UPDATE nodes SET renewed_at = now() - interval '2 seconds', lease_expires_at = now() - interval '1 second' WHERE name = 'n1'",
                logger: database.logger)
            try await store.joinForTests(membership, name: "n1")
            guard case .started = try await store.startManualJob(sourceID: c.id, now: Date(), jobName: "new") else {
                Issue.record("not started")
                return
            }
            let epoch = try #require(store.membership?.epoch)
            let swept = try await store.interruptEarlierLives(node: "n1", epoch: epoch, now: Date())
            #expect(swept.map(\.jobName) == ["old"] && swept.first?.status == .interrupted && swept.first?.id == old.id)
            #expect(try await store.job(name: "theirs")?.status == .running)
            #expect(try await store.job(name: "new")?.status == .running)
            #expect(try await store.job(name: "old")?.tapDescription == "Interrupted")
            #expect(try await store.interruptEarlierLives(node: "n1", epoch: epoch, now: Date()).isEmpty)
        }
    }

    /// Two nodes (n1, n2), each a store with its own pool and change feed, joined, with the
    /// account's destination.
    static func withTwoNodes(_ body: @Sendable (ClusterStore, ClusterStore, ClusterDatabase) async throws -> Void) async throws {
        try await withClusterStore(catalog: Self.catalog) { first, database in
            try await withNodeStore(on: database.location, catalog: Self.catalog) { second in
                try await first.createInitialDestination(type: "jsonl", properties: [:], credentials: [:], now: Date())
                let membership = ClusterMembership(database: database)
                try await first.joinForTests(membership, name: "n1")
                try await second.joinForTests(membership, name: "n2")
                try await body(first, second, database)
            }
        }
    }

    static func nodeOf(_ jobID: Int64, _ database: ClusterDatabase) async throws -> (name: String, epoch: Int64)? {
        for try await row in try await database.client.query(
            "SELECT node, node_epoch FROM jobs WHERE id = \(jobID)", logger: database.logger
        ).decode((String, Int64).self) {
            return row
        }
        return nil
    }
}
