import Foundation
import Logging
import PostgresNIO
import Synchronization
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineCluster

/// Scheduled starts of several nodes in one PostgreSQL database, each node a `ClusterStore`
/// with its own pool and change feed, as separate processes would have. (What a start decides
/// is the shared suites' business: `Store: jobs` and `Store: retries` run on PostgreSQL too.)
@Suite("Cluster: scheduled starts across nodes", .enabled(if: PostgresServer.available, "needs PostgreSQL (apt-get install postgresql)"))
struct ClusterStartsTests {
    static let catalog = ClusterStoreTests.catalog
    static let actor = ClusterStoreTests.actor

    static func everySecond(_ store: ClusterStore, _ name: String, now: Date = Date()) async throws -> SourceRecord {
        try await store.createSource(
            try ClusterStoreTests.new(name, ["host": .string("db"), "cron_expression": .string("* * * ? * *")]), actor: actor, now: now)
    }

    /// What the node's scheduler queue would hold: every source due by `now`, earliest first.
    static func due(_ store: ClusterStore, now: Date, limit: Int) async throws -> [(sourceID: Int64, occurrence: Date)] {
        let due = try await store.allSources().compactMap { source in source.nextFireAt.map { (source.id, $0) } }
        return Array(due.filter { $0.1 <= now }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(limit))
    }

    @Test("a node without a valid lease starts nothing")
    func fencedNodeStartsNothing() async throws {
        try await withClusterStore(catalog: Self.catalog) { store, database in
            try await store.createInitialDestination(type: "jsonl", properties: [:], credentials: [:], now: Date())
            let source = try await Self.everySecond(store, "s1")
            let due = try #require(source.nextFireAt)
            await #expect(throws: ClusterStartError.self) {
                _ = try await store.claimScheduledStarts([(source.id, due)], now: due, jobName: { "j\($0)" })
            }
            try await store.joinForTests(ClusterMembership(database: database), name: "n")
            let epoch = try #require(store.membership?.epoch)
            store.serve(asNode: "n", epoch: epoch + 1)
            await #expect(throws: ClusterStartError.fenced(node: "n", epoch: epoch + 1)) {
                _ = try await store.claimScheduledStarts([(source.id, due)], now: due, jobName: { "j\($0)" })
            }
            store.serve(asNode: "n", epoch: epoch)
            try await database.client.query("UPDATE nodes SET lease_expires_at = now(), renewed_at = now()")
            await #expect(throws: ClusterStartError.fenced(node: "n", epoch: epoch)) {
                _ = try await store.claimScheduledStarts([(source.id, due)], now: due, jobName: { "j\($0)" })
            }
            #expect(try await Self.count(database, "SELECT count(*) FROM jobs") == 0)
        }
    }

    @Test("a claim that waited for the database is dated when it ran, not when it was planned")
    func waitedClaimIsDated() async throws {
        try await withClusterStore(catalog: Self.catalog) { store, database in
            try await store.createInitialDestination(type: "jsonl", properties: [:], credentials: [:], now: Date())
            try await store.joinForTests(ClusterMembership(database: database), name: "n")
            let source = try await Self.everySecond(store, "s1")
            let due = try #require(source.nextFireAt)
            // The node's lease row held for 1.5 s (as a database out of reach holds a claim up).
            let holder = Task {
                try await database.transaction { connection in
                    try await connection.query("SELECT 1 FROM nodes WHERE name = 'n' FOR UPDATE", logger: database.logger)
                    try await connection.query("SELECT pg_sleep(1.5)", logger: database.logger)
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            let batch = try await store.claimScheduledStarts([(source.id, due)], now: due, jobName: { "j\($0)" })
            try await holder.value
            guard case .started(let job, _, _) = try #require(batch.results.first) else {
                Issue.record("not started: \(batch.results)")
                return
            }
            let late = job.startedAt.timeIntervalSince(due)
            #expect(late >= 1.0 && late < 10, "started_at \(late) s after the planned instant")
            #expect(job.scheduledFor == due)
            // Without a wait, the planned instant stands.
            let next = try #require(try await store.source(id: source.id)?.nextFireAt)
            try await store.recordCompletions([(job.id, .stopped(at: next))], policy: CompletionPolicy())
            let asked = ContinuousClock.now
            let prompt = try await store.claimScheduledStarts([(source.id, next)], now: next, jobName: { "k\($0)" })
            let took = ContinuousClock.now - asked
            guard case .started(let second, _, _) = try #require(prompt.results.first) else {
                Issue.record("not started")
                return
            }
            if took < ClusterStore.claimWaitDated {
                #expect(second.startedAt == next)
            } else {
                // The machine was too busy for this claim to count as prompt (the whole suite on
                // 2 cores): it may be dated by its wait, never earlier than planned.
                #expect(second.startedAt >= next)
            }
        }
    }

    @Test("a source row another transaction holds is answered busy and stays due; once free, it starts")
    func busyRow() async throws {
        try await withClusterStore(catalog: Self.catalog) { store, database in
            try await store.createInitialDestination(type: "jsonl", properties: [:], credentials: [:], now: Date())
            try await store.joinForTests(ClusterMembership(database: database), name: "n")
            let source = try await Self.everySecond(store, "s1")
            let due = try #require(source.nextFireAt)
            let held = AsyncStream<Void>.makeStream()
            let release = AsyncStream<Void>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Another node's transaction holds the row until told to let go.
                group.addTask {
                    try await database.client.withTransaction(logger: database.logger) { connection in
                        try await connection.query("SELECT id FROM sources WHERE id = \(source.id) FOR UPDATE", logger: database.logger)
                        held.continuation.yield()
                        for await _ in release.stream { break }
                    }
                }
                for await _ in held.stream { break }
                let busy = try await store.claimScheduledStarts([(source.id, due)], now: due, jobName: { "j\($0)" })
                #expect(busy.results == [.notDue(sourceID: source.id, nextFire: due, reason: .busy)])
                release.continuation.yield()
                try await group.waitForAll()
            }
            let started = try await store.claimScheduledStarts([(source.id, due)], now: due, jobName: { "j\($0)" })
            guard case .started(let job, _, _) = started[0] else {
                Issue.record("not started: \(started[0])")
                return
            }
            #expect(job.scheduledFor == ClusterTime.millis(due))
            let node = try await ClusterJobsTests.nodeOf(job.id, database)
            #expect(node?.name == "n")
        }
    }

    @Test("a dead node's running jobs end as interrupted once, after its lease and the grace; its epoch starts nothing more")
    func reap() async throws {
        try await withClusterStore(catalog: Self.catalog) { store, database in
            try await store.createInitialDestination(type: "jsonl", properties: [:], credentials: [:], now: Date())
            let membership = ClusterMembership(database: database)
            try await store.joinForTests(membership, name: "dying")
            let epoch = try #require(store.membership?.epoch)
            guard case .joined = try await membership.join(NodeIdentity(name: "alive", address: "b"), lease: 60) else {
                Issue.record("join refused")
                return
            }
            let now = Date()
            for i in 1...3 { _ = try await Self.everySecond(store, "s\(i)", now: now) }
            let claims = try await store.claimScheduledStarts(
                try await Self.due(store, now: now.addingTimeInterval(1), limit: 10), now: now.addingTimeInterval(1), jobName: { "j\($0)" })
            #expect(claims.filter { if case .started = $0 { true } else { false } }.count == 3)
            #expect(try await membership.reapExpired(grace: 0).isEmpty, "the lease still runs")

            // Its lease ends (set in the database rather than waited for: no sleep to race).
            try await database.client.query(
                "UPDATE nodes SET lease_expires_at = now() - interval '1 second', renewed_at = now() - interval '2 seconds' WHERE name = 'dying'"
            )
            #expect(try await membership.reapExpired(grace: 60).isEmpty, "inside the grace")
            #expect(try await membership.reapExpired(grace: 0) == [.init(name: "dying", epoch: epoch, interruptedJobs: 3)])
            #expect(try await membership.reapExpired(grace: 0).isEmpty, "once per epoch")
            for try await (status, description, count) in try await database.client.query(
                "SELECT status, tap_description, count(*) FROM jobs GROUP BY 1, 2"
            ).decode((String, String?, Int).self) {
                #expect(status == "interrupted" && description == "Interrupted" && count == 3)
            }
            let later = try await Self.due(store, now: now.addingTimeInterval(5), limit: 10)
            await #expect(throws: ClusterStartError.fenced(node: "dying", epoch: epoch)) {
                _ = try await store.claimScheduledStarts(later, now: now.addingTimeInterval(5), jobName: { "k\($0)" })
            }
        }
    }

    @Test("three nodes claiming at once: one start per occurrence, none inside an acknowledged pause, every node starting jobs")
    func threeNodes() async throws {
        try await withClusterStore(catalog: Self.catalog) { first, database in
            try await withNodeStore(on: database.location, catalog: Self.catalog) { second in
                try await withNodeStore(on: database.location, catalog: Self.catalog) { third in
                    try await Self.race([first, second, third], database)
                }
            }
        }
    }

    /// Every node claims what is due every few milliseconds and ends most jobs at once (every
    /// fifth runs into its next occurrence); a pauser pauses a random source through a random
    /// node, counts its scheduled jobs, waits, counts again, and unpauses it.
    static func race(_ nodes: [ClusterStore], _ database: ClusterDatabase) async throws {
        let membership = ClusterMembership(database: database)
        try await nodes[0].createInitialDestination(type: "jsonl", properties: [:], credentials: [:], now: Date())
        for (k, node) in nodes.enumerated() { try await node.joinForTests(membership, name: "node-\(k + 1)") }
        var ids: [Int64] = []
        for i in 1...40 { ids.append(try await everySecond(nodes[i % 3], "s\(i)").id) }
        let sources = ids
        let tally = Tally()
        // The pauser checks at least `pauses` pauses, for at least `duration` seconds (at most
        // 60: a loaded machine makes every step slower), then stops everyone.
        let duration = 4.0
        let pauses = 12
        var work: [Task<Void, Never>] = []
        for (k, node) in nodes.enumerated() {
            work.append(
                Task {
                    do {
                        var n = 0
                        while !tally.stop.load(ordering: .relaxed) {
                            let now = Date()
                            let batch = try await node.claimScheduledStarts(
                                try await due(node, now: now, limit: 8), now: now, jobName: { "node-\(k + 1)-\($0)-\(UUID().uuidString)" })
                            for case .started(let job, _, _) in batch.results {
                                n += 1
                                let ends = [
                                    (job.id, JobOutcome(status: .succeeded, completedAt: Date(), tapExitStatus: 0, targetExitStatus: 0))
                                ]
                                if n % 5 != 0 {
                                    try await node.recordCompletions(ends, policy: CompletionPolicy())
                                } else {
                                    Task {
                                        try? await Task.sleep(for: .milliseconds(1_200))
                                        _ = try? await node.recordCompletions(ends, policy: CompletionPolicy())
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
        work.append(
            Task {
                var random = SystemRandomNumberGenerator()
                let begin = Date()
                defer { tally.stop.store(true, ordering: .relaxed) }
                do {
                    while Date().timeIntervalSince(begin) < 60,
                        Date().timeIntervalSince(begin) < duration || tally.pausesChecked.load(ordering: .relaxed) < pauses
                    {
                        let source = sources.randomElement(using: &random)!
                        let node = nodes.randomElement(using: &random)!
                        var pause = SourcePatch()
                        pause.pause = .pause(shownAs: Date())
                        _ = try await node.updateSource(id: source, patch: pause, actor: actor, now: Date())
                        let before = try await scheduledJobs(database, source)
                        try await Task.sleep(for: .milliseconds(Int.random(in: 20...300, using: &random)))
                        let after = try await scheduledJobs(database, source)
                        if after != before {
                            tally.violations.withLock { $0.append("source \(source): \(after - before) start(s) while paused") }
                        }
                        tally.pausesChecked.add(1, ordering: .relaxed)
                        var unpause = SourcePatch()
                        unpause.pause = .unpause
                        _ = try await nodes.randomElement(using: &random)!.updateSource(
                            id: source, patch: unpause, actor: actor, now: Date())
                    }
                } catch {
                    tally.errors.withLock { $0.append("pauser: \(String(reflecting: error))") }
                }
            })
        for task in work { await task.value }

        #expect(tally.errors.withLock { $0 } == [])
        #expect(tally.violations.withLock { $0 } == [])
        #expect(tally.pausesChecked.load(ordering: .relaxed) >= pauses)
        var perNode: [String: Int] = [:]
        for try await (node, count) in try await database.client.query("SELECT node, count(*) FROM jobs GROUP BY node").decode(
            (String, Int).self)
        {
            perNode[node] = count
        }
        #expect(perNode.count == 3, "every node started jobs: \(perNode)")
        let duplicates = try await count(
            database, "SELECT count(*) FROM (SELECT source_id, scheduled_for FROM jobs GROUP BY 1, 2 HAVING count(*) > 1) d")
        #expect(duplicates == 0)
        let running = try await count(
            database, "SELECT count(*) FROM (SELECT source_id FROM jobs WHERE status = 'running' GROUP BY 1 HAVING count(*) > 1) d")
        #expect(running == 0)
        let total = perNode.values.reduce(0, +)
        #expect(total >= 40, "\(total) jobs in \(duration) s for 40 every-second sources")
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
