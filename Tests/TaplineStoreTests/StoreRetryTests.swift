import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineStore

/// Retries of failed scheduled jobs, straight against the store: each attempt a job row of its
/// occurrence, and nothing that stops a scheduled start lets a retry through.
@Suite("Store: retries")
struct StoreRetryTests {
    /// Every minute at second 0; retries after 10 s, 20 s, … (jitter fixed at its upper end).
    let policy = CompletionPolicy(
        failuresBeforeSystemPause: 2, retry: RetryPolicy(retries: 2, initialDelay: 10, maxDelay: 40), unitRandom: { 1 })

    func source(_ store: any APIStore, _ name: String = "s", cron: String = "0 * * ? * *") async throws -> SourceRecord {
        try await store.createSource(
            try newSource(name, properties: ["host": .string("h"), "cron_expression": .string(cron)]), actor: alice, now: t0)
    }

    func start(_ store: any APIStore, _ id: Int64, at due: Date) async throws -> (JobRecord, Date?) {
        let result = try await store.claimScheduledStarts([(id, due)], now: due, jobName: { "1.\($0).sync.\(UUID())" })[0]
        guard case .started(let job, _, let next) = result else { throw StoreTestFailure("not started: \(result)") }
        return (job, next)
    }

    func fail(_ store: any APIStore, _ job: JobRecord, at end: Date) async throws -> CompletionResult {
        try await store.recordCompletions([(job.id, JobOutcome(status: .failed, completedAt: end, tapExitStatus: 1))], policy: policy)
    }

    @Test(
        "a failed scheduled job is retried with doubling waits, each attempt a job of the same occurrence",
        arguments: StoreBackend.available)
    func retriedThenResumes(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let s = try await source(store)
            let due = try #require(s.nextFireAt)
            let regular = due.addingTimeInterval(60)
            let (first, _) = try await start(store, s.id, at: due)
            let r1 = try await fail(store, first, at: due.addingTimeInterval(1))
            #expect(r1.retries.map(\.at) == [due.addingTimeInterval(11)])
            var stored = try #require(try await store.source(id: s.id))
            #expect(stored.nextFireAt == due.addingTimeInterval(11))
            #expect(stored.pendingRetry == PendingRetry(attempt: 2, occurrence: due, resumeAt: regular))

            let (second, next2) = try await start(store, s.id, at: due.addingTimeInterval(11))
            #expect(second.scheduledFor == due && second.attempt == 2 && second.trigger == .scheduled)
            #expect(next2 == regular)
            _ = try await fail(store, second, at: due.addingTimeInterval(12))
            stored = try #require(try await store.source(id: s.id))
            // The second wait doubles: 20 s.
            #expect(stored.nextFireAt == due.addingTimeInterval(32) && stored.pendingRetry?.attempt == 3)

            let (third, _) = try await start(store, s.id, at: due.addingTimeInterval(32))
            #expect(third.attempt == 3)
            let r3 = try await fail(store, third, at: due.addingTimeInterval(33))
            // Attempts used up: back to the regular occurrence, and one occurrence failed (not three),
            // so the system pause (after 2) has not come.
            #expect(r3.retries.isEmpty && r3.systemPaused.isEmpty)
            stored = try #require(try await store.source(id: s.id))
            #expect(stored.nextFireAt == regular && stored.pendingRetry == nil && stored.systemPausedAt == nil)

            // The next occurrence failing in all its attempts is the second failed occurrence.
            var (job, _) = try await start(store, s.id, at: regular)
            var end = regular.addingTimeInterval(1)
            while true {
                let r = try await fail(store, job, at: end)
                guard let retry = r.retries.first else {
                    #expect(r.systemPaused.count == 1)
                    break
                }
                (job, _) = try await start(store, s.id, at: retry.at)
                end = retry.at.addingTimeInterval(1)
            }
            #expect(try await store.source(id: s.id)?.systemPausedAt != nil)
            let attempts = try await store.jobs(sourceID: s.id, page: 1, perPage: 100, filter: JobFilter()).jobs.reversed().map(\.attempt)
            #expect(attempts == [1, 2, 3, 1, 2, 3])
        }
    }

    @Test("a pause, a delete, a schedule edit and a manual start each drop a pending retry", arguments: StoreBackend.available)
    func supersededRetries(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            for way in ["pause", "delete", "edit", "manual"] {
                let s = try await source(store, way)
                let due = try #require(s.nextFireAt)
                let (job, _) = try await start(store, s.id, at: due)
                let retryAt = try #require(try await fail(store, job, at: due.addingTimeInterval(1)).retries.first?.at)
                let now = due.addingTimeInterval(2)
                switch way {
                case "pause":
                    _ = try await store.updateSource(id: s.id, patch: patch { $0.pause = .pause(shownAs: now) }, actor: alice, now: now)
                case "delete": _ = try await store.deleteSource(id: s.id, actor: alice, now: now)
                case "edit":
                    _ = try await store.updateSource(
                        id: s.id,
                        patch: try patch { $0.changes = try testType.validate(properties: ["cron_expression": .string("30 * * ? * *")]) },
                        actor: alice, now: now)
                default:
                    guard case .started(let manual, _) = try await store.startManualJob(sourceID: s.id, now: now, jobName: "m.\(way)")
                    else {
                        Issue.record("manual not started")
                        continue
                    }
                    try await store.recordCompletions(
                        [(manual.id, JobOutcome(status: .succeeded, completedAt: now, tapExitStatus: 0))], policy: CompletionPolicy())
                }
                let after = try #require(try await store.source(id: s.id))
                #expect(after.pendingRetry == nil, "\(way)")
                #expect(after.nextFireAt != retryAt, "\(way)")
                // The retry's due time, claimed anyway (a stale queue entry), starts nothing.
                let result = try await store.claimScheduledStarts([(s.id, retryAt)], now: retryAt, jobName: { "x.\($0).\(UUID())" })[0]
                guard case .notDue = result else {
                    Issue.record("\(way): the dropped retry started: \(result)")
                    continue
                }
                if way == "manual" || way == "edit" { #expect(after.nextFireAt != nil, "\(way)") }
            }
        }
    }

    @Test("no retry that would not come before the next occurrence; never for stopped or manual jobs", arguments: StoreBackend.available)
    func noRetryWhenPointless(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            // Every 10 s: a 10 s wait reaches the next occurrence.
            let s = try await source(store, cron: "0/10 * * ? * *")
            let due = try #require(s.nextFireAt)
            let (job, next) = try await start(store, s.id, at: due)
            #expect(try await fail(store, job, at: due.addingTimeInterval(1)).retries.isEmpty)
            #expect(try await store.source(id: s.id)?.nextFireAt == next)

            let minutely = try await store.createSource(
                try newSource("m", properties: ["host": .string("h"), "cron_expression": .string("0 * * ? * *")]), actor: alice, now: t0)
            let mdue = try #require(minutely.nextFireAt)
            let (stopped, _) = try await start(store, minutely.id, at: mdue)
            let r = try await store.recordCompletions([(stopped.id, JobOutcome.stopped(at: mdue.addingTimeInterval(1)))], policy: policy)
            #expect(r.retries.isEmpty)
            guard
                case .started(let manual, _) = try await store.startManualJob(
                    sourceID: minutely.id, now: mdue.addingTimeInterval(2), jobName: "m")
            else {
                Issue.record("manual not started")
                return
            }
            #expect(try await fail(store, manual, at: mdue.addingTimeInterval(3)).retries.isEmpty)
        }
    }

    @Test("a restart keeps a due retry, and drops it once its regular occurrence has passed too")
    func retryAcrossRestart() async throws {
        let store = try Store.inMemory(catalog: testCatalog).withTestDestination()
        let s = try await source(store)
        let due = try #require(s.nextFireAt)
        let (job, _) = try await start(store, s.id, at: due)
        let retryAt = try #require(try await fail(store, job, at: due.addingTimeInterval(1)).retries.first?.at)
        // Down over the retry's time only: it is still due.
        _ = try store.prepareSchedule(now: retryAt.addingTimeInterval(5), catchUpWindow: nil)
        #expect(try await store.source(id: s.id)?.pendingRetry?.attempt == 2)
        #expect(try await store.source(id: s.id)?.nextFireAt == retryAt)
        // Down past the regular occurrence as well: that occurrence takes over, under the
        // catch-up rules (within one period: due now as that occurrence).
        let regular = due.addingTimeInterval(60)
        _ = try store.prepareSchedule(now: regular.addingTimeInterval(5), catchUpWindow: nil)
        let after = try #require(try await store.source(id: s.id))
        #expect(after.pendingRetry == nil && after.nextFireAt == regular)
        let (caught, _) = try await start(store, s.id, at: regular)
        #expect(caught.attempt == 1 && caught.scheduledFor == regular)
    }

    @Test("an attempt starts once, even when its due time is claimed twice", arguments: StoreBackend.available)
    func attemptOnce(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let s = try await source(store)
            let due = try #require(s.nextFireAt)
            let (job, _) = try await start(store, s.id, at: due)
            let retryAt = try #require(try await fail(store, job, at: due.addingTimeInterval(1)).retries.first?.at)
            let batch = try await store.claimScheduledStarts(
                [(s.id, retryAt), (s.id, retryAt)], now: retryAt, jobName: { "r.\($0).\(UUID())" })
            guard case .started(let retry, _, _) = batch[0] else {
                Issue.record("retry not started: \(batch[0])")
                return
            }
            #expect(retry.attempt == 2)
            guard case .notDue(_, _, .moved) = batch[1] else {
                Issue.record("second claim: \(batch[1])")
                return
            }
        }
    }
}

struct StoreTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
