import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

extension Store {
    /// Starts a manual job whether or not the source is paused; the pause state is untouched.
    /// A plain-interval schedule then counts from this start, as in Stitch; a pending retry is
    /// dropped (the manual job is the new attempt).
    public func startManualJob(sourceID: Int64, now: Date, jobName: String) async throws -> ManualStartResult {
        let catalog = self.catalog
        return try await writer.write { db in
            guard let source = try Self.fetchSource(db, id: sourceID) else { return .unknownSource }
            if let refusal = source.manualStartRefusal(catalog: catalog) { return refusal }
            guard try Self.liveDestination(db) != nil else { return .noDestination }
            guard try Self.runningJob(db, sourceID: sourceID) == nil else { return .alreadyRunning }
            try db.execute(
                sql: "INSERT INTO jobs (job_name, source_id, trigger, status, started_at) VALUES (?, ?, 'manual', 'running', ?)",
                arguments: [jobName, sourceID, StoredTime.millis(now)])
            let updated = source.afterManualStart(catalog: catalog, now: now)
            if source.isSchedulable(in: catalog) { try Self.setNextFire(db, sourceID: sourceID, updated.nextFireAt) }
            guard let job = try Self.fetchJob(db, name: jobName) else { throw StoreError.corruptValue("job row") }
            return .started(job, source: updated)
        }
    }
}
