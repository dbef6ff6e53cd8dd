import Foundation
import Synchronization
import TaplineCore
import Testing

@testable import TaplineStoreContract

/// A row held in a dictionary, for the shared decoders without a database.
struct DictionaryRow: StoredRow {
    var values: [String: Any] = [:]

    func int64(_ column: String) throws -> Int64? { values[column] as? Int64 }
    func int(_ column: String) throws -> Int? { values[column] as? Int }
    func string(_ column: String) throws -> String? { values[column] as? String }
    func bool(_ column: String) throws -> Bool? { values[column] as? Bool }
    func time(_ column: String) throws -> Date? { values[column] as? Date }
}

private let t0 = Timestamp.parse("2026-12-07T10:00:00Z")!

private func source(deleted: Bool = false, systemPaused: Bool = false) -> SourceRecord {
    var record = SourceRecord(id: 7, name: "shop", displayName: "Shop", type: "platform.demo", createdAt: t0, updatedAt: t0)
    if deleted { record.deletedAt = t0 }
    if systemPaused {
        record.systemPausedAt = t0
        record.systemPauseReason = "earlier"
    }
    return record
}

/// The decisions both stores carry out, checked without either of them.
@Suite("Contract: plans and shared row decoding")
struct ContractPlansTests {
    @Test("a system pause is planned only for a live source not yet system paused")
    func systemPauseGuard() {
        let later = t0.addingTimeInterval(60)
        let plan = source().systemPausePlan(reason: "3 failures", now: later)
        #expect(
            plan
                == SystemPausePlan(
                    sourceID: 7, pausedAt: later, reason: "3 failures",
                    event: PlannedEvent(kind: .systemPaused, reason: "3 failures", detail: nil)))
        #expect(source(deleted: true).systemPausePlan(reason: "x", now: later) == nil)
        #expect(source(systemPaused: true).systemPausePlan(reason: "x", now: later) == nil)
    }

    @Test("a manual start: refused in Stitch's order, or started with its audit event; a paused source starts")
    func manualStartPlan() {
        let catalog = SourceTypeCatalog([SourceType(type: "platform.demo", displayName: "Demo", tapCommand: ["demo"])])
        var paused = source()
        paused.pausedAt = t0
        let plan = paused.manualStartPlan(
            catalog: catalog, hasDestination: true, hasRunningJob: false, jobName: "j1", reason: "backfill", now: t0)
        guard case .start(let updated, _, let event) = plan else {
            Issue.record("a paused source's manual start is refused: \(plan)")
            return
        }
        #expect(updated.pausedAt == t0)
        #expect(event == PlannedEvent(kind: .manualStart, reason: "backfill", detail: "j1"))
        #expect(
            source(deleted: true).manualStartPlan(
                catalog: catalog, hasDestination: false, hasRunningJob: true, jobName: "j", reason: nil, now: t0) == .refuse(.deleted))
        #expect(
            source().manualStartPlan(catalog: catalog, hasDestination: false, hasRunningJob: true, jobName: "j", reason: nil, now: t0)
                == .refuse(.noDestination))
        #expect(
            source().manualStartPlan(catalog: catalog, hasDestination: true, hasRunningJob: true, jobName: "j", reason: nil, now: t0)
                == .refuse(.alreadyRunning))
        #expect(
            source().manualStartPlan(
                catalog: SourceTypeCatalog([]), hasDestination: true, hasRunningJob: false, jobName: "j", reason: nil, now: t0)
                == .refuse(.typeMissing("platform.demo")))
    }

    @Test("a job's end: a retry first, then the failure count; a manual success clears a system pause; a gone source is left")
    func completionSteps() {
        var failed = JobRecord(id: 1, jobName: "j1", sourceID: 7, trigger: .scheduled, status: .failed, startedAt: t0)
        failed.scheduledFor = t0
        var scheduled = source()
        scheduled.nextFireAt = t0.addingTimeInterval(3600)
        let retrying = CompletionPolicy(failuresBeforeSystemPause: 3, retry: RetryPolicy(retries: 2, initialDelay: 60), unitRandom: { 0.5 })
        let ended = t0.addingTimeInterval(10)
        guard case .retry(let at, let attempt, let occurrence, let resumeAt) = retrying.step(after: failed, source: scheduled, now: ended)
        else {
            Issue.record("a failed scheduled job with retries left is not retried")
            return
        }
        #expect(at > ended && at < scheduled.nextFireAt!)
        #expect(attempt == 2 && occurrence == t0 && resumeAt == scheduled.nextFireAt)
        // A retry already pending, or a paused source: no retry; the failures are counted.
        var pending = scheduled
        pending.pendingRetry = PendingRetry(attempt: 2, occurrence: t0, resumeAt: scheduled.nextFireAt)
        #expect(retrying.step(after: failed, source: pending, now: ended) == .countFailures(count: 3))
        var paused = scheduled
        paused.pausedAt = t0
        #expect(retrying.step(after: failed, source: paused, now: ended) == .countFailures(count: 3))
        #expect(CompletionPolicy().step(after: failed, source: scheduled, now: ended) == .none)
        #expect(retrying.step(after: failed, source: nil, now: ended) == .none)

        #expect(
            retrying.systemPauseReason(lastAttempts: [.failed, .failed, .failed], after: failed)
                == "3 consecutive scheduled jobs failed (last: j1)")
        #expect(retrying.systemPauseReason(lastAttempts: [.failed, .succeeded, .failed], after: failed) == nil)
        #expect(retrying.systemPauseReason(lastAttempts: [.failed, .failed], after: failed) == nil)

        let manual = JobRecord(id: 2, jobName: "m1", sourceID: 7, trigger: .manual, status: .succeeded, startedAt: t0)
        #expect(
            retrying.step(after: manual, source: source(systemPaused: true), now: ended)
                == .clearSystemPause(event: PlannedEvent(kind: .systemUnpaused, reason: "manual job m1 succeeded", detail: nil)))
        #expect(retrying.step(after: manual, source: source(), now: ended) == .none)
    }

    @Test("an update reads the last job start only when a rule needs it: a pause never, an unpause once")
    func lastStartReadLazily() async throws {
        let catalog = SourceTypeCatalog([SourceType(type: "platform.demo", displayName: "Demo", tapCommand: ["demo"])])
        var live = source()
        live.nextFireAt = t0.addingTimeInterval(3600)
        #expect(live.isSchedulable(in: catalog))
        let reads = Mutex(0)
        var pause = SourcePatch()
        pause.pause = .pause(shownAs: t0)
        let paused = try await live.planUpdate(pause, catalog: catalog, now: t0) {
            reads.withLock { $0 += 1 }
            return nil
        }
        #expect(paused.after.nextFireAt == nil)
        #expect(reads.withLock { $0 } == 0)
        var unpause = SourcePatch()
        unpause.pause = .unpause
        let unpaused = try await paused.after.planUpdate(unpause, catalog: catalog, now: t0.addingTimeInterval(10)) {
            reads.withLock { $0 += 1 }
            return t0.addingTimeInterval(-30)
        }
        #expect(unpaused.after.nextFireAt != nil)
        #expect(reads.withLock { $0 } == 1)
    }

    @Test("a job row decodes by column name; a NULL where tapline always writes is a corrupt-value error, not a crash")
    func jobDecoding() throws {
        var row = DictionaryRow(values: [
            "id": Int64(3), "job_name": "116078.7.1", "source_id": Int64(7), "trigger": "manual", "status": "failed",
            "started_at": t0, "completed_at": t0.addingTimeInterval(5), "tap_exit_status": 1, "stream_records": #"{"orders":4}"#,
        ])
        let job = try JobRecord(stored: row)
        #expect(job.id == 3 && job.trigger == .manual && job.status == .failed)
        #expect(job.attempt == 1)
        #expect(job.tapExitStatus == 1 && job.targetExitStatus == nil)
        #expect(job.streamRecords == ["orders": 4])

        row.values["started_at"] = nil
        #expect(throws: StoreError.self) { try JobRecord(stored: row) }
        row.values["started_at"] = t0
        row.values["status"] = "exploded"
        #expect(throws: StoreError.self) { try JobRecord(stored: row) }
    }

    @Test("a source row decodes with its credentials opened by the backend's function")
    func sourceDecoding() throws {
        let row = DictionaryRow(values: [
            "id": Int64(7), "name": "shop", "display_name": "Shop", "type": "platform.demo", "created_at": t0, "updated_at": t0,
            "properties": #"{"host":"db"}"#, "credentials": "sealed", "retry_attempt": 2, "retry_occurrence": t0, "discovered": true,
        ])
        let record = try SourceRecord(stored: row, open: { $0 == "sealed" ? #"{"password":"pw"}"# : $0 })
        #expect(record.properties == ["host": "db"])
        #expect(record.credentials == ["password": "pw"])
        #expect(record.pendingRetry == PendingRetry(attempt: 2, occurrence: t0, resumeAt: nil))
        #expect(record.discovered && !record.streamsSelected)
    }
}
