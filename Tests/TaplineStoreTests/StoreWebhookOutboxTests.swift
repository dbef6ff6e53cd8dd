import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineStore

/// The webhook outbox: deliveries are written in the transaction of their event, by the schema.
@Suite("Store: webhook outbox")
struct StoreWebhookOutboxTests {
    func failedJob(_ store: Store) async throws -> JobRecord {
        let source = try await store.createSource(
            try newSource("s", properties: ["host": .string("h"), "cron_expression": .string("0 * * ? * *")]), actor: alice, now: t0)
        let due = try #require(source.nextFireAt)
        guard case .started(let job, _, _) = try store.claimScheduledStarts([(source.id, due)], now: due, jobName: { "j.\($0)" })[0]
        else { throw StoreTestFailure("not started") }
        try store.recordCompletions(
            [(job.id, JobOutcome(status: .failed, completedAt: due, tapExitStatus: 1))],
            policy: CompletionPolicy(failuresBeforeSystemPause: 1))
        return job
    }

    @Test("a job's end and a system pause queue one delivery per subscribed webhook, in their own transaction")
    func queued() async throws {
        let store = try Store.inMemory(catalog: testCatalog).withTestDestination()
        try store.configureWebhooks(
            [
                WebhookSubscription(name: "all", url: "http://127.0.0.1:1/a", events: WebhookEvent.allCases),
                WebhookSubscription(name: "pauses", url: "https://example.invalid/b", events: [.systemPaused]),
            ], now: t0)
        let job = try await failedJob(store)
        let due = try await store.dueDeliveries(now: t0.addingTimeInterval(3600), limit: 10)
        #expect(
            due.map { "\($0.webhook) \($0.event.rawValue)" }.sorted() == [
                "all job.failed", "all source.system_paused", "pauses source.system_paused",
            ])
        #expect(due.first { $0.event == .jobFailed }?.job?.id == job.id)
        #expect(due.first { $0.event == .systemPaused }?.reason?.hasPrefix("1 consecutive") == true)
        // Nothing is due before its event happened.
        #expect(try await store.dueDeliveries(now: t0, limit: 10).isEmpty)

        // Attempts: one delivered, one retried later, one abandoned.
        let at = t0.addingTimeInterval(3600)
        try await store.recordDeliveryAttempts([
            (due[0].id, .delivered(status: 204, at: at)),
            (due[1].id, .failed(status: 500, error: "the receiver answered 500", at: at, retryAt: at.addingTimeInterval(30))),
            (due[2].id, .abandoned(status: nil, error: "timed out", at: at)),
        ])
        #expect(try await store.dueDeliveries(now: at, limit: 10).isEmpty)
        #expect(try await store.nextDeliveryDue() == at.addingTimeInterval(30))
        #expect(try await store.dueDeliveries(now: at.addingTimeInterval(30), limit: 10).map(\.attempts) == [1])

        // A webhook removed from the configuration has its pending deliveries abandoned.
        try store.configureWebhooks([], now: at)
        #expect(try await store.nextDeliveryDue() == nil)
        let abandoned = try await store.writer.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_deliveries WHERE abandoned_at IS NOT NULL") ?? 0
        }
        #expect(abandoned == 2)
    }

    @Test("without webhooks nothing is queued")
    func nothingWithoutWebhooks() async throws {
        let store = try Store.inMemory(catalog: testCatalog).withTestDestination()
        _ = try await failedJob(store)
        let count = try await store.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_deliveries") ?? 0 }
        #expect(count == 0)
    }
}
