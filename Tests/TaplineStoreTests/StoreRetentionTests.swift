import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineStore

@Suite("Store: history retention")
struct StoreRetentionTests {
    func endedJobs(_ store: any APIStore, source: Int64, count: Int, at start: Date) async throws {
        for i in 0..<count {
            let at = start.addingTimeInterval(Double(i))
            guard
                case .started(let job, _) = try await store.startManualJob(
                    sourceID: source, now: at, jobName: "1.\(source).sync.\(start.timeIntervalSince1970).\(i)")
            else {
                Issue.record("not started")
                return
            }
            try await store.recordCompletions(
                [(job.id, JobOutcome(status: .succeeded, completedAt: at.addingTimeInterval(0.5)))], policy: CompletionPolicy())
        }
    }

    @Test(
        "ended jobs past the age or the per-source count go in small steps; running jobs and pause events stay",
        arguments: StoreBackend.available)
    func prune(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in try await prune(store) }
    }

    func prune(_ store: any BackendStore) async throws {
        let a = try await store.createSource(try newSource("a"), actor: alice, now: t0)
        let b = try await store.createSource(try newSource("b"), actor: alice, now: t0)
        let old = t0.addingTimeInterval(-90 * 86_400)
        try await endedJobs(store, source: a.id, count: 30, at: old)
        try await endedJobs(store, source: a.id, count: 20, at: t0)
        try await endedJobs(store, source: b.id, count: 8, at: t0)
        _ = try await store.startManualJob(sourceID: b.id, now: t0.addingTimeInterval(100), jobName: "1.2.sync.running")
        _ = try await store.updateSource(id: a.id, patch: patch { $0.pause = .pause(shownAs: old) }, actor: alice, now: old)
        var policy = RetentionPolicy()
        policy.days = 60
        policy.jobsPerSource = 5
        policy.batch = 7
        var cursor: Int64? = nil
        var steps = 0
        var total = 0
        repeat {
            let step = try await store.pruneHistory(policy: policy, now: t0.addingTimeInterval(3600), fromSource: cursor)
            #expect(step.jobs <= policy.batch)
            total += step.jobs
            cursor = step.nextSource
            steps += 1
            if !step.full && cursor == nil { break }
        } while steps < 100
        #expect(total == 30 + 15 + 3, "old ones, then beyond 5 per source")
        #expect(steps > 1, "in several small steps")
        #expect(try await store.jobs(sourceID: a.id, page: 1, perPage: 100, filter: JobFilter()).total == 5)
        let bJobs = try await store.jobs(sourceID: b.id, page: 1, perPage: 100, filter: JobFilter()).jobs
        #expect(bJobs.count == 6 && bJobs.contains { $0.status == .running }, "5 ended and the running one")
        #expect(try await store.events(sourceID: a.id).contains { $0.kind == .paused }, "pause events are the audit trail")
    }

    @Test("only overlap skips may be deleted from the events table")
    func eventsStayAppendOnly() async throws {
        let store = try Store.inMemory(catalog: testCatalog).withTestDestination()
        _ = try await store.createSource(try newSource("a"), actor: alice, now: t0)
        #expect(throws: (any Error).self) {
            try store.writer.write { db in try db.execute(sql: "DELETE FROM source_events WHERE kind = 'created'") }
        }
    }
}
