import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

extension Store {
    /// Pauses a source on tapline's own authority (repeated failures, a type gone from the
    /// configuration, a command that cannot run). It blocks scheduled jobs exactly like a user
    /// pause, is recorded as a `system_paused` event with its reason, and is cleared by a
    /// successful manual job or `PUT {"system_paused_at": null}`.
    ///
    /// Returns the source, or `nil` if it does not exist. A source already system paused keeps its
    /// original time and reason.
    @discardableResult
    public func systemPause(sourceID: Int64, reason: String, now: Date) async throws -> SourceRecord? {
        try await writer.write { db in
            guard let before = try Self.fetchSource(db, id: sourceID) else { return nil }
            try Self.systemPause(db, source: before, reason: reason, now: now)
            return try Self.fetchSource(db, id: sourceID)
        }
    }

    /// The same as `systemPause(sourceID:reason:now:)`, for callers on a dispatch queue (the job
    /// runner) rather than in async code. Returns the source as committed.
    @discardableResult
    public func recordSystemPause(sourceID: Int64, reason: String, now: Date) throws -> SourceRecord? {
        try writer.write { db in
            guard let source = try Self.fetchSource(db, id: sourceID) else { return nil }
            try Self.systemPause(db, source: source, reason: reason, now: now)
            return try Self.fetchSource(db, id: sourceID)
        }
    }

    /// The system pause inside the caller's transaction, as `SourceRecord.systemPausePlan` says
    /// (nothing for a source already system paused or deleted). Returns whether it wrote.
    @discardableResult
    static func systemPause(_ db: Database, source: SourceRecord, reason: String, now: Date) throws -> Bool {
        guard let plan = source.systemPausePlan(reason: reason, now: now) else { return false }
        try db.execute(
            sql: """
                UPDATE sources SET system_paused_at = ?, system_pause_reason = ?, next_fire_at = NULL,
                    retry_attempt = NULL, retry_occurrence = NULL, retry_resume_at = NULL, updated_at = ?
                WHERE id = ?
                """,
            arguments: [StoredTime.seconds(plan.pausedAt), plan.reason, StoredTime.seconds(now), plan.sourceID])
        try appendEvent(
            db, sourceID: plan.sourceID, kind: plan.event.kind, actor: .system, at: now, reason: plan.event.reason,
            detail: plan.event.detail)
        return true
    }
}
