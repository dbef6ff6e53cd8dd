import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

extension Store {
    /// Applies the catch-up rules to every source whose due time passed while tapline was down (or
    /// was skipped over by a forward step of the wall clock, `cause`):
    /// it keeps one coalesced occurrence due now when the latest missed one is within the window,
    /// else skips them (event `skipped`, reason `outside catch-up window`). A pending retry whose
    /// time passed is kept due, as long as the regular occurrence after it has not passed too.
    /// Returns every active source's due time, for the scheduler's queue.
    public func prepareSchedule(now: Date, catchUpWindow: TimeInterval?, cause: CatchUpCause = .downtime) throws
        -> (due: [(sourceID: Int64, due: Date)], skipped: Int)
    {
        let catalog = self.catalog
        return try writer.write { db in
            var skipped = 0
            let due = try SourceRecord.fetchAll(
                db, sql: "SELECT \(SourceRecord.columns) FROM sources WHERE next_fire_at IS NOT NULL AND next_fire_at < ?",
                arguments: [StoredTime.millis(now)]
            )
            for source in due {
                switch source.catchUpStep(type: catalog[source.type], now: now, window: catchUpWindow) {
                case .leave: continue
                case .due(let occurrence):
                    try Self.setNextFire(db, sourceID: source.id, occurrence)
                case .skip(let missed, let next):
                    skipped += 1
                    try Self.setNextFire(db, sourceID: source.id, next)
                    try Self.appendEvent(
                        db, sourceID: source.id, kind: .skipped, actor: .system, at: now, reason: "outside catch-up window",
                        detail: "\(missed) occurrence(s) missed \(cause.detail)")
                }
            }
            let scheduled = try Row.fetchAll(db, sql: "SELECT id, next_fire_at FROM sources WHERE next_fire_at IS NOT NULL")
                .map { row in (sourceID: row["id"] as Int64, due: try StoredTime.required(row["next_fire_at"])) }
            return (scheduled, skipped)
        }
    }

    /// Moves the source's due time. Every move but the one that schedules a retry goes through
    /// here, and drops a pending retry: a pause, an edit, an unpause or a manual start supersede it.
    static func setNextFire(_ db: Database, sourceID: Int64, _ next: Date?) throws {
        try db.run(
            "UPDATE sources SET next_fire_at = ?, retry_attempt = NULL, retry_occurrence = NULL, retry_resume_at = NULL WHERE id = ?",
            [next.map(StoredTime.millis), sourceID])
    }
}
