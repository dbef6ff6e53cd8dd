import Foundation
import TaplineCore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineStore

/// A job's life through the store, one suite for every backend (SQLite in memory and on disk,
/// PostgreSQL through `ClusterStore`): manual starts, spawn and completion bookkeeping, state,
/// loads, log retention, the destination's pause, and the job reads the API serves.
@Suite("Store: a job's life")
struct StoreJobLifeTests {
    static func everySecond(_ store: any APIStore, _ name: String = "s") async throws -> SourceRecord {
        try await store.createSource(
            try newSource(name, properties: ["host": .string("h"), "cron_expression": .string("* * * ? * *")]), actor: alice, now: t0)
    }

    static func manual(_ store: any APIStore, _ sourceID: Int64, at: Date, _ name: String) async throws -> JobRecord {
        guard case .started(let job, _) = try await store.startManualJob(sourceID: sourceID, now: at, jobName: name) else {
            throw ServerError("manual start of \(name) refused")
        }
        return job
    }

    static func succeeded(at: Date, state: String? = nil, loaded: [String: Int] = [:]) -> JobOutcome {
        JobOutcome(
            status: .succeeded, completedAt: at, tapExitStatus: 0, targetExitStatus: 0, streamRecords: loaded, loadedRecords: loaded,
            confirmedState: state)
    }

    @Test("a manual start: the job row, one at a time, and every refusal", arguments: StoreBackend.available)
    func manualStart(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let source = try await Self.everySecond(store)
            let at = t0.addingTimeInterval(10.25)
            guard case .started(let job, let after) = try await store.startManualJob(sourceID: source.id, now: at, jobName: "1.1.sync.a")
            else {
                Issue.record("not started")
                return
            }
            #expect(job.jobName == "1.1.sync.a" && job.sourceID == source.id && job.trigger == .manual)
            #expect(job.status == .running && job.startedAt == at && job.scheduledFor == nil && job.attempt == 1)
            #expect(job.completedAt == nil && job.processGroup == nil && job.logPath == nil)
            // A cron schedule keeps its wall-clock occurrences; a plain interval counts from the start.
            #expect(after.nextFireAt == source.nextFireAt)
            let interval = try await store.createSource(
                try newSource("i", properties: ["host": .string("h"), "frequency_in_minutes": .string("30")]), actor: alice, now: t0)
            guard case .started(_, let counted) = try await store.startManualJob(sourceID: interval.id, now: at, jobName: "i1")
            else {
                Issue.record("not started")
                return
            }
            #expect(counted.nextFireAt == at.addingTimeInterval(1800))
            #expect(try await store.source(id: interval.id)?.nextFireAt == counted.nextFireAt)
            #expect(try await store.job(name: "1.1.sync.a") == job)

            #expect(try await store.startManualJob(sourceID: source.id, now: at, jobName: "1.1.sync.b") == .alreadyRunning)
            #expect(try await store.startManualJob(sourceID: 99, now: at, jobName: "1.99.sync") == .unknownSource)
            let bare = try await store.createSource(try newSource("bare", properties: [:]), actor: alice, now: t0)
            #expect(try await store.startManualJob(sourceID: bare.id, now: at, jobName: "x") == .notConfigured(.form))
            _ = try await store.deleteSource(id: bare.id, actor: alice, now: t0)
            #expect(try await store.startManualJob(sourceID: bare.id, now: at, jobName: "x") == .deleted)
            // A paused source still takes manual jobs; its pause is untouched.
            let paused = try await Self.everySecond(store, "p")
            _ = try await store.updateSource(id: paused.id, patch: patch { $0.pause = .pause(shownAs: t0) }, actor: alice, now: t0)
            guard case .started(_, let stillPaused) = try await store.startManualJob(sourceID: paused.id, now: at, jobName: "p1")
            else {
                Issue.record("a paused source refused a manual job")
                return
            }
            #expect(stillPaused.pausedAt == t0 && stillPaused.nextFireAt == nil)
            #expect(try await store.jobs(sourceID: source.id, page: 1, perPage: 100, filter: JobFilter()).total == 1)
        }
    }

    @Test(
        "completions end a job once, with its spawn, counts and loads; retention keeps the newest logs", arguments: StoreBackend.available)
    func completionAndRetention(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let source = try await Self.everySecond(store)
            var ids: [Int64] = []
            for i in 0..<5 {
                let at = t0.addingTimeInterval(Double(i))
                let job = try await Self.manual(store, source.id, at: at, "j\(i)")
                try await store.recordSpawned([
                    SpawnedJob(jobID: job.id, processGroup: 100 + Int32(i), spawnedAt: at, logPath: "/logs/j\(i).log")
                ])
                let result = try await store.recordCompletions(
                    [(job.id, Self.succeeded(at: at.addingTimeInterval(0.5), loaded: ["orders": 2 + i]))],
                    policy: CompletionPolicy(keepLogsPerSource: 3))
                #expect(result.ended.map(\.id) == [job.id])
                #expect(result.ended.first?.status == .succeeded && result.ended.first?.completedAt == at.addingTimeInterval(0.5))
                #expect(result.expiredLogs == (i >= 3 ? ["/logs/j\(i - 3).log"] : []))
                ids.append(job.id)
            }
            // Ending a job twice changes nothing.
            #expect(try await store.recordCompletions([(ids[0], .stopped(at: t0))], policy: CompletionPolicy()).ended.isEmpty)
            let (jobs, total) = try await store.jobs(sourceID: source.id, page: 1, perPage: 100, filter: JobFilter())
            #expect(total == 5 && jobs.map(\.jobName) == ["j4", "j3", "j2", "j1", "j0"])
            #expect(jobs.allSatisfy { $0.status == .succeeded })
            #expect(jobs.compactMap(\.logPath) == ["/logs/j4.log", "/logs/j3.log", "/logs/j2.log"])
            #expect(jobs.first?.processGroup == 104 && jobs.first?.spawnedAt == t0.addingTimeInterval(4))
            #expect(jobs.first?.streamRecords == ["orders": 6] && jobs.first?.tapExitStatus == 0)
        }
    }

    @Test("the confirmed state is kept compact for the next job, and reset only between jobs", arguments: StoreBackend.available)
    func state(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let source = try await Self.everySecond(store)
            let first = try await Self.manual(store, source.id, at: t0, "a")
            // A failed job's confirmed state is kept too: the target confirmed it. Both stores keep
            // it compacted by one rule: escapes, numbers and key order as the target wrote them.
            try await store.recordCompletions(
                [
                    (
                        first.id,
                        JobOutcome(
                            status: .failed, completedAt: t0, tapExitStatus: 1,
                            confirmedState: #"{ "bookmarks": { "orders": { "id": 7 } } }"#)
                    )
                ],
                policy: CompletionPolicy())
            #expect(try await store.state(sourceID: source.id) == #"{"bookmarks":{"orders":{"id":7}}}"#)
            let second = try await Self.manual(store, source.id, at: t0.addingTimeInterval(1), "b")
            #expect(try await store.resetState(sourceID: source.id, actor: alice, now: t0) == .jobRunning(jobName: "b"))
            try await store.recordCompletions(
                [
                    (
                        second.id,
                        Self.succeeded(
                            at: t0.addingTimeInterval(2),
                            state: #"{"bookmarks":{"orders":{"id":9, "s":"a b", "e":"\"q\" \u00e9 é", "n": 1.50}}}"#)
                    )
                ],
                policy: CompletionPolicy())
            #expect(
                try await store.state(sourceID: source.id) == #"{"bookmarks":{"orders":{"id":9,"s":"a b","e":"\"q\" \u00e9 é","n":1.50}}}"#)
            #expect(
                try await store.resetState(sourceID: source.id, actor: alice, now: t0)
                    == .reset(previous: #"{"bookmarks":{"orders":{"id":9,"s":"a b","e":"\"q\" \u00e9 é","n":1.50}}}"#))
            #expect(try await store.state(sourceID: source.id) == nil)
            let last = try #require(try await store.events(sourceID: source.id).last)
            #expect(last.kind == .updated && last.reason == "state reset" && last.detail == "state" && last.actor == "alice")
        }
    }

    @Test("a manual success that clears a system pause puts the source back on its schedule", arguments: StoreBackend.available)
    func manualSuccessReschedules(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let source = try await Self.everySecond(store)
            try await store.systemPause(sourceID: source.id, reason: "5 consecutive scheduled jobs failed", now: t0)
            let later = t0.addingTimeInterval(30)
            let job = try await Self.manual(store, source.id, at: later, "m")
            try await store.recordCompletions([(job.id, Self.succeeded(at: later.addingTimeInterval(1)))], policy: CompletionPolicy())
            let after = try #require(try await store.source(id: source.id))
            #expect(after.systemPausedAt == nil && after.systemPauseReason == nil)
            // The next occurrence strictly after the unpause, as PUT {"system_paused_at": null} gives.
            #expect(after.nextFireAt == later.addingTimeInterval(2))
            let event = try #require(try await store.events(sourceID: source.id).last)
            #expect(event.kind == .systemUnpaused && event.reason == "manual job m succeeded" && event.actor == "system")
        }
    }

    @Test(
        "deleting the destination system-pauses every source and refuses manual jobs; a new one releases them",
        arguments: StoreBackend.available)
    func destinationPause(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let a = try await Self.everySecond(store, "a")
            let b = try await Self.everySecond(store, "b")
            try await store.systemPause(sourceID: b.id, reason: "held", now: t0)
            let live = try #require(try await store.destinations().first)
            #expect(try await store.createInitialDestination(type: "jsonl", properties: [:], credentials: [:], now: t0) == false)
            await #expect(throws: DestinationError.alreadyExists) {
                try await store.createDestination(type: "jsonl", properties: [:], credentials: [:], now: t0)
            }
            let deleted = try await store.deleteDestination(id: live.id, now: t0)
            #expect(deleted.deletedAt == t0)
            let paused = try #require(try await store.source(id: a.id))
            #expect(paused.systemPauseReason == SystemPauseReason.noDestination && paused.nextFireAt == nil)
            // A source already system paused keeps its own reason.
            #expect(try await store.source(id: b.id)?.systemPauseReason == "held")
            #expect(try await store.startManualJob(sourceID: b.id, now: t0, jobName: "x") == .noDestination)

            let later = t0.addingTimeInterval(60)
            let created = try await store.createDestination(
                type: "jsonl", properties: ["path": "/data"], credentials: ["token": "t"], now: later)
            #expect(created.properties == ["path": "/data"] && created.credentials == ["token": "t"] && created.deletedAt == nil)
            let released = try #require(try await store.source(id: a.id))
            #expect(released.systemPausedAt == nil && released.nextFireAt == later.addingTimeInterval(1))
            #expect(try await store.source(id: b.id)?.systemPauseReason == "held")
            let updated = try await store.updateDestination(
                id: created.id, regular: ["path": .set("/other")], credentials: ["token": .remove], now: later)
            #expect(updated.properties == ["path": "/other"] && updated.credentials == [:])
            #expect(try await store.destinations().map(\.id) == [live.id, created.id])
            await #expect(throws: DestinationError.unknownID(live.id)) {
                try await store.deleteDestination(id: live.id, now: later)
            }
        }
    }

    @Test("job listings filter by status, trigger and start time, newest first, page by page", arguments: StoreBackend.available)
    func listings(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let source = try await Self.everySecond(store)
            for i in 0..<6 {
                let at = t0.addingTimeInterval(Double(i * 10))
                let job = try await Self.manual(store, source.id, at: at, "j\(i)")
                let outcome =
                    i % 2 == 0
                    ? Self.succeeded(at: at.addingTimeInterval(1))
                    : JobOutcome(status: .failed, completedAt: at.addingTimeInterval(1), tapExitStatus: 2)
                try await store.recordCompletions([(job.id, outcome)], policy: CompletionPolicy())
            }
            _ = try await Self.manual(store, source.id, at: t0.addingTimeInterval(70), "running")
            func names(_ filter: JobFilter, page: Int = 1, perPage: Int = 100) async throws -> ([String], Int) {
                let (jobs, total) = try await store.jobs(sourceID: source.id, page: page, perPage: perPage, filter: filter)
                return (jobs.map(\.jobName), total)
            }
            #expect(try await names(JobFilter()) == (["running", "j5", "j4", "j3", "j2", "j1", "j0"], 7))
            #expect(try await names(JobFilter(statuses: [.failed])) == (["j5", "j3", "j1"], 3))
            #expect(try await names(JobFilter(statuses: [.running, .succeeded])) == (["running", "j4", "j2", "j0"], 4))
            #expect(try await names(JobFilter(trigger: .scheduled)) == ([], 0))
            #expect(try await names(JobFilter(since: t0.addingTimeInterval(20), until: t0.addingTimeInterval(40))) == (["j3", "j2"], 2))
            #expect(try await names(JobFilter(), page: 2, perPage: 3) == (["j3", "j2", "j1"], 7))
            #expect(try await names(JobFilter(), page: 4, perPage: 3) == ([], 7))
        }
    }

    @Test(
        "extractions show each source's last ended job; loads each stream's latest load, a failed target as its error",
        arguments: StoreBackend.available)
    func extractionsAndLoads(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let a = try await Self.everySecond(store, "a")
            let b = try await Self.everySecond(store, "b")
            for (i, source) in [a, a, b].enumerated() {
                let at = t0.addingTimeInterval(Double(i * 10))
                let job = try await Self.manual(store, source.id, at: at, "j\(i)")
                let outcome =
                    i == 2
                    ? JobOutcome(
                        status: .failed, completedAt: at.addingTimeInterval(1), tapExitStatus: 0, targetExitStatus: 3,
                        targetDescription: "disk full", streamRecords: ["orders": 4])
                    : Self.succeeded(at: at.addingTimeInterval(1), loaded: ["orders": i + 1])
                try await store.recordCompletions([(job.id, outcome)], policy: CompletionPolicy())
            }
            _ = try await Self.manual(store, b.id, at: t0.addingTimeInterval(40), "running")
            let (jobs, total) = try await store.lastExtractions(since: t0, page: 1, perPage: 10)
            #expect(total == 2 && jobs.map(\.job.jobName) == ["j1", "j2"] && jobs.allSatisfy { $0.sourceType == testType.type })
            #expect(try await store.lastExtractions(since: t0.addingTimeInterval(15), page: 1, perPage: 10).total == 1)
            let (loads, count) = try await store.loads(since: t0, page: 1, perPage: 10)
            #expect(count == 2 && loads.map(\.sourceName) == ["a", "b"] && loads.map(\.streamName) == ["orders", "orders"])
            #expect(loads[0].records == 2 && loads[0].lastBatchLoadedAt == t0.addingTimeInterval(11) && loads[0].failure == nil)
            #expect(loads[1].lastBatchLoadedAt == nil && loads[1].failure == LoadFailure(message: "disk full", targetExitStatus: 3))
            #expect(try await store.isReachable())
        }
    }

}
