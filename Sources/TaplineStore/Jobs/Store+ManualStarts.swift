import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

extension Store {
    /// Starts a manual job whether or not the source is paused; the pause state is untouched.
    /// A plain-interval schedule then counts from this start, as in Stitch; a pending retry is
    /// dropped (the manual job is the new attempt).
    public func startManualJob(sourceID: Int64, now: Date, jobName: String, actor: Actor, reason: String?) async throws
        -> ManualStartResult
    {
        let catalog = self.catalog
        return try await writer.write { db in
            // Read (the writer is the lock) → plan → write.
            guard let source = try Self.fetchSource(db, id: sourceID) else { return .unknownSource }
            let plan = source.manualStartPlan(
                catalog: catalog, hasDestination: try Self.liveDestination(db) != nil,
                hasRunningJob: try Self.runningJob(db, sourceID: sourceID) != nil, jobName: jobName, reason: reason, now: now)
            let updated: SourceRecord, setsNextFire: Bool, event: PlannedEvent
            switch plan {
            case .refuse(let refusal): return refusal
            case .start(let after, let sets, let planned): (updated, setsNextFire, event) = (after, sets, planned)
            }
            try db.execute(
                sql: "INSERT INTO jobs (job_name, source_id, trigger, status, started_at) VALUES (?, ?, 'manual', 'running', ?)",
                arguments: [jobName, sourceID, StoredTime.millis(now)])
            if setsNextFire { try Self.setNextFire(db, sourceID: sourceID, updated.nextFireAt) }
            try Self.appendEvent(
                db, sourceID: sourceID, kind: event.kind, actor: actor, at: now, reason: event.reason, detail: event.detail)
            guard let job = try Self.fetchJob(db, name: jobName) else { throw StoreError.corruptValue("job row") }
            return .started(job, source: updated)
        }
    }
}
