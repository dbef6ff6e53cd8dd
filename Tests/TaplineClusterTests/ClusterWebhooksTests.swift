import Foundation
import PostgresNIO
import Synchronization
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineCluster

/// The webhook outbox on PostgreSQL: queued by the schema in the event's transaction, as in
/// SQLite, and claimed by one node at a time, so several nodes send each delivery once.
@Suite(
    "Cluster: the webhook outbox shared by nodes", .enabled(if: PostgresServer.available, "needs PostgreSQL (apt-get install postgresql)"))
struct ClusterWebhooksTests {
    static let catalog = ClusterStoreTests.catalog

    /// A source with a failed manual job and a system pause: two events.
    static func events(_ store: ClusterStore, at: Date) async throws -> JobRecord {
        try await store.createInitialDestination(type: "jsonl", properties: [:], credentials: [:], now: at)
        let source = try await store.createSource(try ClusterStoreTests.new("Shop"), actor: ClusterStoreTests.actor, now: at)
        guard case .started(let job, _) = try await store.startManualJob(sourceID: source.id, now: at, jobName: "j1")
        else { throw ServerError("not started") }
        try await store.recordCompletions(
            [(job.id, JobOutcome(status: .failed, completedAt: at.addingTimeInterval(1), tapExitStatus: 1))], policy: CompletionPolicy())
        try await store.systemPause(sourceID: source.id, reason: "the tap failed", now: at.addingTimeInterval(2))
        return job
    }

    static func pending(_ database: ClusterDatabase) async throws -> [String] {
        var rows: [String] = []
        for try await (webhook, event, claimedBy) in try await database.client.query(
            "SELECT webhook, event, claimed_by FROM webhook_deliveries WHERE next_attempt_at IS NOT NULL ORDER BY id",
            logger: database.logger
        ).decode((String, String, String?).self) {
            rows.append("\(webhook) \(event) \(claimedBy ?? "-")")
        }
        return rows
    }

    @Test("events queue one delivery per subscribed webhook; a node's claim keeps the others off until it records or runs out")
    func claims() async throws {
        let at = Timestamp.parse("2026-12-04T10:00:00Z")!
        try await withClusterStore(catalog: Self.catalog) { first, database in
            try await withNodeStore(on: database.location, catalog: Self.catalog) { second in
                first.claimDeliveries(as: "n1", for: 60)
                second.claimDeliveries(as: "n2", for: 60)
                let woken = Atomic<Int>(0)
                second.onDeliveriesQueued { woken.add(1, ordering: .relaxed) }
                try await first.configureWebhooks(
                    [
                        WebhookSubscription(name: "all", url: "http://127.0.0.1:1/a", events: WebhookEvent.allCases),
                        WebhookSubscription(name: "pauses", url: "https://example.invalid/b", events: [.systemPaused]),
                    ], now: at)
                try await first.joinForTests(ClusterMembership(database: database), name: "n1")
                let job = try await Self.events(first, at: at)
                #expect(
                    try await Self.pending(database) == ["all job.failed -", "all source.system_paused -", "pauses source.system_paused -"])
                #expect(try await first.dueDeliveries(now: at, limit: 10).isEmpty, "nothing is due before its event")

                // The other node hears of the queued deliveries without polling.
                let deadline = ContinuousClock.now + .seconds(10)
                while woken.load(ordering: .relaxed) == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
                #expect(woken.load(ordering: .relaxed) > 0)

                let later = at.addingTimeInterval(3600)
                let taken = try await first.dueDeliveries(now: later, limit: 2)
                #expect(taken.map { "\($0.webhook) \($0.event.rawValue)" } == ["all job.failed", "all source.system_paused"])
                #expect(taken[0].job?.id == job.id && taken[0].source.name == "shop" && taken[1].reason == "the tap failed")
                let rest = try await second.dueDeliveries(now: later, limit: 10)
                #expect(rest.map(\.webhook) == ["pauses"], "the other node takes only what is not claimed")
                #expect(
                    try await second.dueDeliveries(now: later, limit: 10).map(\.webhook) == ["pauses"], "a node sees its own claims again")
                #expect(try await first.dueDeliveries(now: later, limit: 10).map(\.id) == taken.map(\.id))
                // A node with every pending delivery claimed by others waits for the claims to
                // run out (or be recorded), not in a busy loop.
                first.claimDeliveries(as: "n3", for: 60)
                let wait = try #require(try await first.nextDeliveryDue())
                #expect(wait > Date().addingTimeInterval(30))
                first.claimDeliveries(as: "n1", for: 60)

                try await first.recordDeliveryAttempts([
                    (taken[0].id, .delivered(status: 204, at: later)),
                    (
                        taken[1].id,
                        .failed(status: 500, error: "the receiver answered 500", at: later, retryAt: later.addingTimeInterval(30))
                    ),
                ])
                #expect(try await Self.pending(database) == ["all source.system_paused -", "pauses source.system_paused n2"])
                let retried = try await second.dueDeliveries(now: later.addingTimeInterval(30), limit: 10)
                #expect(retried.map { "\($0.webhook) \($0.attempts)" } == ["pauses 0", "all 1"], "a retry is anyone's")

                // A claim that ran out (its node died) is taken by another node.
                try await database.client.query(
                    "UPDATE webhook_deliveries SET claimed_until = now() - interval '1 second' WHERE claimed_by = 'n2'",
                    logger: database.logger)
                #expect(try await first.dueDeliveries(now: later.addingTimeInterval(30), limit: 10).count == 2)

                // A webhook no longer configured has its pending deliveries abandoned.
                try await second.configureWebhooks(
                    [WebhookSubscription(name: "all", url: "http://127.0.0.1:1/a", events: WebhookEvent.allCases)], now: later)
                #expect(try await Self.pending(database) == ["all source.system_paused n1"])
                let all = try #require(retried.first { $0.webhook == "all" })
                try await first.recordDeliveryAttempts([(all.id, .delivered(status: 200, at: later))])
                #expect(try await first.nextDeliveryDue() == nil)
                #expect(try await first.pruneDeliveries(before: later, limit: 10) == 3)
                #expect(try await first.pruneDeliveries(before: later, limit: 10) == 0)
            }
        }
    }

    @Test("nodes starting together each write the webhooks, one after the other")
    func concurrentConfiguration() async throws {
        try await withClusterDatabase { database in
            let hooks = [WebhookSubscription(name: "ends", url: "http://127.0.0.1:1/h", events: [.jobSucceeded, .jobFailed])]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await withNodeStore(on: database.location, catalog: Self.catalog) { store in
                            try await store.configureWebhooks(hooks, now: Date())
                        }
                    }
                }
                try await group.waitForAll()
            }
            var names: [String] = []
            for try await name in try await database.client.query("SELECT name FROM webhooks", logger: database.logger).decode(String.self)
            {
                names.append(name)
            }
            #expect(names == ["ends"])
        }
    }

    @Test("without webhooks nothing is queued")
    func nothingWithoutWebhooks() async throws {
        try await withClusterStore(catalog: Self.catalog) { store, database in
            try await store.joinForTests(ClusterMembership(database: database), name: "n1")
            _ = try await Self.events(store, at: Date())
            #expect(try await Self.pending(database).isEmpty)
        }
    }
}
