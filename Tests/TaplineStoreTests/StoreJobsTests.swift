import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineStore

/// The start transaction and job bookkeeping, straight against the store (the claims on every
/// backend; what needs SQLite itself, on SQLite).
@Suite("Store: jobs")
struct StoreJobsTests {
    func cronSource(_ store: any APIStore, _ name: String = "s") async throws -> SourceRecord {
        try await store.createSource(
            try newSource(name, properties: ["host": .string("h"), "cron_expression": .string("0 * * ? * *")]), actor: alice, now: t0)
    }

    func claim(_ store: any APIStore, _ id: Int64, _ occurrence: Date, now: Date? = nil) async throws -> ClaimResult {
        try await store.claimScheduledStarts([(id, occurrence)], now: now ?? occurrence, jobName: { "1.\($0).sync.\(UUID())" })[0]
    }

    @Test("a claim starts the due occurrence once and moves the due time", arguments: StoreBackend.available)
    func claimOnce(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let source = try await cronSource(store)
            let due = try #require(source.nextFireAt)
            guard case .started(let job, _, let next) = try await claim(store, source.id, due) else {
                Issue.record("not started")
                return
            }
            #expect(job.trigger == .scheduled && job.scheduledFor == due && job.status == .running)
            #expect(next == due.addingTimeInterval(60))
            // The same occurrence again (a stale queue entry) starts nothing.
            #expect(try await claim(store, source.id, due) == .notDue(sourceID: source.id, nextFire: next, reason: .moved))
        }
    }

    @Test("a source twice in one batch: the second claim is planned from the row the first left", arguments: StoreBackend.available)
    func claimTwiceInOneBatch(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let source = try await cronSource(store)
            let due = try #require(source.nextFireAt)
            let batch = try await store.claimScheduledStarts(
                [(source.id, due), (source.id, due)], now: due, jobName: { "1.\($0).sync.\(UUID())" })
            guard case .started(_, _, let next) = batch[0] else {
                Issue.record("not started: \(batch[0])")
                return
            }
            #expect(batch[1] == .notDue(sourceID: source.id, nextFire: next, reason: .moved))
            #expect(try await store.jobs(sourceID: source.id, page: 1, perPage: 10, filter: JobFilter()).total == 1)
        }
    }

    @Test("a paused, system-paused or deleted source is never claimed", arguments: StoreBackend.available)
    func pausedNeverClaimed(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let a = try await cronSource(store, "a")
            let b = try await cronSource(store, "b")
            let c = try await cronSource(store, "c")
            let due = try #require(a.nextFireAt)
            _ = try await store.updateSource(id: a.id, patch: patch { $0.pause = .pause(shownAs: t0) }, actor: alice, now: t0)
            try await store.systemPause(sourceID: b.id, reason: "test", now: t0)
            _ = try await store.deleteSource(id: c.id, actor: alice, now: t0)
            #expect(try await claim(store, a.id, due) == .notDue(sourceID: a.id, nextFire: nil, reason: .paused))
            #expect(try await claim(store, b.id, due) == .notDue(sourceID: b.id, nextFire: nil, reason: .systemPaused))
            #expect(try await claim(store, c.id, due) == .notDue(sourceID: c.id, nextFire: nil, reason: .deleted))
            #expect(try await store.jobs(sourceID: a.id, page: 1, perPage: 100, filter: JobFilter()).total == 0)
        }
    }

    @Test("an occurrence during a running job is skipped with an event", arguments: StoreBackend.available)
    func overlap(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let source = try await cronSource(store)
            _ = try await store.startManualJob(sourceID: source.id, now: t0, jobName: "manual")
            let due = try #require(source.nextFireAt)
            #expect(try await claim(store, source.id, due) == .skippedOverlap(sourceID: source.id, nextFire: due.addingTimeInterval(60)))
            let event = try await store.events(sourceID: source.id).last
            #expect(event?.kind == .skipped && event?.reason == "overlap" && event?.actor == "system")
        }
    }

    @Test("a source whose type left the configuration is system-paused when it falls due")
    func missingType() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try await cronSource(try Store.open(path: dir + "/t.db", catalog: testCatalog).withTestDestination())
        let reopened = try Store.open(path: dir + "/t.db", catalog: SourceTypeCatalog([])).withTestDestination()
        #expect(
            try await claim(reopened, source.id, try #require(source.nextFireAt))
                == .notDue(sourceID: source.id, nextFire: nil, reason: .notConfigured))
        let paused = try #require(try await reopened.source(id: source.id))
        #expect(paused.systemPauseReason == "source type platform.test is not in the configuration")
    }

    @Test("completions end running jobs once; log retention keeps the newest per source")
    func completionsAndRetention() async throws {
        let store = try Store.inMemory(catalog: testCatalog).withTestDestination()
        let source = try await cronSource(store)
        var ids: [Int64] = []
        for i in 0..<5 {
            guard
                case .started(let job, _) = try await store.startManualJob(
                    sourceID: source.id, now: t0.addingTimeInterval(Double(i)), jobName: "j\(i)")
            else {
                Issue.record("not started")
                return
            }
            try store.recordSpawned([(job.id, 100 + Int32(i), t0, "/logs/j\(i).log")])
            let result = try store.recordCompletions(
                [(job.id, JobOutcome(status: .succeeded, completedAt: t0, tapExitStatus: 0, targetExitStatus: 0))],
                policy: CompletionPolicy(keepLogsPerSource: 3))
            #expect(result.ended.map(\.id) == [job.id])
            #expect(result.expiredLogs == (i >= 3 ? ["/logs/j\(i - 3).log"] : []))
            ids.append(job.id)
        }
        // Ending a job twice changes nothing.
        #expect(try store.recordCompletions([(ids[0], .stopped(at: t0))]).isEmpty)
        let jobs = try await store.jobs(sourceID: source.id, page: 1).jobs
        #expect(jobs.map(\.status).allSatisfy { $0 == .succeeded })
        #expect(jobs.compactMap(\.logPath).count == 3)
        #expect(jobs.first?.processGroup == 104 && jobs.first?.spawnedAt == t0)
    }
}

/// Every way a source becomes schedulable again computes its next fire by the rule PUT uses.
@Suite("Store: schedulable again")
struct StoreSchedulableAgainTests {
    @Test("a manual success that clears a system pause puts the source back on its schedule, and says so")
    func manualSuccessReschedules() async throws {
        let store = try Store.inMemory(catalog: testCatalog).withTestDestination()
        let heard = ChangeLog()
        store.observe(heard)
        let source = try await store.createSource(
            try newSource("s", properties: ["host": .string("h"), "cron_expression": .string("* * * ? * *")]), actor: alice, now: t0)
        try await store.systemPause(sourceID: source.id, reason: "5 consecutive scheduled jobs failed", now: t0)
        #expect(try await store.source(id: source.id)?.nextFireAt == nil)
        let later = t0.addingTimeInterval(30)
        guard case .started(let job, _) = try await store.startManualJob(sourceID: source.id, now: later, jobName: "1.1.sync.m")
        else {
            Issue.record("not started")
            return
        }
        heard.clear()
        try store.recordCompletions(
            [(job.id, JobOutcome(status: .succeeded, completedAt: later.addingTimeInterval(1), tapExitStatus: 0, targetExitStatus: 0))],
            policy: CompletionPolicy())
        let after = try #require(try await store.source(id: source.id))
        #expect(after.systemPausedAt == nil)
        // The next occurrence strictly after the unpause, as PUT {"system_paused_at": null} gives.
        #expect(after.nextFireAt == later.addingTimeInterval(2))
        #expect(heard.changes.map(\.sourceID) == [source.id] && heard.changes.first?.due == after.nextFireAt)
    }

    @Test("a system pause by repeated failures is reported to the scheduler as a change")
    func failuresReported() async throws {
        let store = try Store.inMemory(catalog: testCatalog).withTestDestination()
        let heard = ChangeLog()
        store.observe(heard)
        let source = try await store.createSource(
            try newSource("s", properties: ["host": .string("h"), "cron_expression": .string("* * * ? * *")]), actor: alice, now: t0)
        var due = try #require(source.nextFireAt)
        var changed: [SourceChange] = []
        for _ in 0..<2 {
            guard
                case .started(let job, _, let next) = try store.claimScheduledStarts(
                    [(source.id, due)], now: due, jobName: { "1.\($0).sync.\(UUID())" })[0]
            else {
                Issue.record("not started")
                return
            }
            heard.clear()
            try store.recordCompletions(
                [(job.id, JobOutcome(status: .failed, completedAt: due, tapExitStatus: 1))],
                policy: CompletionPolicy(failuresBeforeSystemPause: 2))
            // A completion that leaves the source's schedule alone touches no source row.
            changed += heard.changes
            due = try #require(next)
        }
        #expect(changed.count == 1 && changed[0].sourceID == source.id && changed[0].due == nil)
        #expect(try await store.source(id: source.id)?.systemPausedAt != nil)
    }
}
