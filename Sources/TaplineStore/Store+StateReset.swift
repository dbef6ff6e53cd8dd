import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

extension Store {
    /// Clears a source's Singer state so its next job replicates from `start_date`, in one
    /// transaction with its audit event (`updated`, reason `state reset`, detail `state`).
    /// Refused while a job of the source runs: the job would confirm a state on its way out.
    /// Deleted sources cannot be reset (`SourceError.deleted`).
    public func resetState(sourceID: Int64, actor: Actor, now: Date) async throws -> StateResetResult {
        try await writer.write { db in
            guard let source = try Self.fetchSource(db, id: sourceID) else { throw SourceError.invalidID(sourceID) }
            guard source.deletedAt == nil else { throw SourceError.deleted(sourceID) }
            if let running = try Self.runningJob(db, sourceID: sourceID) { return .jobRunning(jobName: running.jobName) }
            let previous = try String.fetchOne(db, sql: "SELECT state FROM source_state WHERE source_id = ?", arguments: [sourceID])
            try db.execute(sql: "DELETE FROM source_state WHERE source_id = ?", arguments: [sourceID])
            try Self.appendEvent(
                db, sourceID: sourceID, kind: .updated, actor: actor, at: now, reason: "state reset", detail: "state")
            return .reset(previous: previous)
        }
    }

    /// The source's Singer state as its next job gets it (`nil`: none).
    public func state(sourceID: Int64) async throws -> String? {
        try await writer.read { db in
            try String.fetchOne(db, sql: "SELECT state FROM source_state WHERE source_id = ?", arguments: [sourceID])
        }
    }
}
