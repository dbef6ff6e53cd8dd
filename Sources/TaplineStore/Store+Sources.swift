import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

extension Store {
    // MARK: Reads

    /// One source, active, paused or deleted.
    ///
    /// Read inline on the caller's thread and without a surrounding transaction: it is one
    /// SELECT (SQLite makes a single statement a consistent snapshot), a lookup by primary key
    /// takes microseconds, and WAL readers never wait for the writer; handing it to a reader's
    /// queue inside BEGIN … COMMIT cost more than the read itself.
    /// One primary-key SELECT, without a transaction, awaited: it never blocks a thread of the
    /// cooperative pool. (A blocking read there once deadlocked the daemon under load: both pool
    /// threads waited for a reader connection while the reads holding them waited for a pool
    /// thread to finish.)
    public func source(id: Int64) async throws -> SourceRecord? {
        try await writer.unsafeRead { db in try Self.fetchSource(db, id: id) }
    }

    /// Every source, including paused and deleted ones, by id.
    public func allSources() async throws -> [SourceRecord] {
        try await writer.read { db in
            try SourceRecord.fetchAll(db, sql: "SELECT \(SourceRecord.columns) FROM sources ORDER BY id")
        }
    }

    /// A page of sources by id, from after `id` on: how a large listing is read in bounded pieces.
    public func sources(after id: Int64, limit: Int) async throws -> [SourceRecord] {
        try await writer.read { db in
            try SourceRecord.fetchAll(
                db, sql: "SELECT \(SourceRecord.columns) FROM sources WHERE id > ? ORDER BY id LIMIT ?", arguments: [id, limit]
            )
        }
    }

    /// Live sources that still await a connection check: of a type with discovery whose streams
    /// were never discovered, or of a type with a declared check that never ran. The only ones a
    /// restart must look at (not every source of a large table).
    public func sourcesAwaitingCheck() async throws -> [SourceRecord] {
        let types = catalog.sorted.filter(\.supportsDiscovery).map(\.type)
        let checked = catalog.sorted.filter { !$0.supportsDiscovery && $0.checkCommand != nil }.map(\.type)
        guard !types.isEmpty || !checked.isEmpty else { return [] }
        return try await writer.read { db in
            func marks(_ n: Int) -> String { n == 0 ? "NULL" : Array(repeating: "?", count: n).joined(separator: ",") }
            return try SourceRecord.fetchAll(
                db,
                sql: """
                    SELECT \(SourceRecord.columns) FROM sources
                    WHERE deleted_at IS NULL AND (
                        (type IN (\(marks(types.count)))
                         AND NOT EXISTS (SELECT 1 FROM source_streams ss WHERE ss.source_id = sources.id))
                        OR (type IN (\(marks(checked.count)))
                         AND NOT EXISTS (SELECT 1 FROM connection_checks cc WHERE cc.source_id = sources.id)))
                    ORDER BY id
                    """, arguments: StatementArguments(types + checked)
            )
        }
    }

    static func fetchSource(_ db: Database, id: Int64) throws -> SourceRecord? {
        try db.fetchOne(SourceRecord.self, "SELECT \(SourceRecord.columns) FROM sources WHERE id = ?", [id])
    }

    // MARK: Create

    /// Creates a source and, when it is fully configured, puts its first job on the schedule.
    /// Name clashes are checked in the same transaction as the insert.
    public func createSource(_ new: NewSource, actor: Actor, now: Date) async throws -> SourceRecord {
        let catalog = self.catalog
        let announcer = self.announcer
        return try await writer.write { db in
            let displayNameTaken =
                try Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM sources WHERE display_name = ? AND deleted_at IS NULL)",
                    arguments: [new.displayName]) == true
            let nameTaken =
                try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM sources WHERE name = ?)", arguments: [new.name]) == true
            if let clash = new.nameClash(displayNameTaken: displayNameTaken, nameTaken: nameTaken) { throw clash }
            let record = SourceRecord.planCreation(new, catalog: catalog, now: now)
            try db.execute(
                sql: """
                    INSERT INTO sources (name, display_name, type, properties, credentials, frequency_in_minutes,
                        anchor_time, cron_expression, cron_timezone, destination_id, next_fire_at, created_at, updated_at)
                    VALUES (?, ?, ?, ?, tapline_seal(?), ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    record.name, record.displayName, record.type, StoredJSON.encode(record.properties),
                    StoredJSON.encode(record.credentials), record.frequencyMinutes,
                    record.anchorTime.map(StoredTime.millis), record.cronExpression, record.cronTimeZone, record.destinationID,
                    record.nextFireAt.map(StoredTime.millis), StoredTime.seconds(now), StoredTime.seconds(now),
                ])
            let id = db.lastInsertedRowID
            announcer.markEdited(id)
            try Self.appendEvent(db, sourceID: id, kind: .created, actor: actor, at: now)
            guard let stored = try Self.fetchSource(db, id: id) else { throw StoreError.corruptValue("source row") }
            return stored
        }
    }

    // MARK: Update, pause, unpause

    /// Applies a validated PUT in one transaction: display name, merged properties, pause state and
    /// the recomputed next fire time commit together, with an event for every pause-state change.
    ///
    /// A pause is committed (and made durable) before this returns, and the scheduler's start
    /// transaction re-checks the pause columns, so no scheduled job can start after the caller
    /// has seen the response.
    public func updateSource(id: Int64, patch: SourcePatch, actor: Actor, now: Date) async throws -> SourceRecord {
        let catalog = self.catalog
        let announcer = self.announcer
        return try await writer.write { db in
            guard let before = try Self.fetchSource(db, id: id) else { throw SourceError.invalidID(id) }
            guard before.deletedAt == nil else { throw SourceError.deleted(id) }
            guard !patch.isEmpty else { return before }
            announcer.markEdited(id)

            let plan = try before.planUpdate(patch, catalog: catalog, now: now) {
                try Self.lastJobStart(db, sourceID: id)
            }
            let after = plan.after
            for event in plan.events {
                try Self.appendEvent(db, sourceID: id, kind: event.kind, actor: actor, at: now, reason: event.reason, detail: event.detail)
            }
            try db.execute(
                sql: """
                    UPDATE sources SET display_name = ?, properties = ?, credentials = tapline_seal(?), frequency_in_minutes = ?,
                        anchor_time = ?, cron_expression = ?, cron_timezone = ?, destination_id = ?, paused_at = ?,
                        system_paused_at = ?, system_pause_reason = ?, next_fire_at = ?, retry_attempt = ?,
                        retry_occurrence = ?, retry_resume_at = ?, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [
                    after.displayName, StoredJSON.encode(after.properties), StoredJSON.encode(after.credentials),
                    after.frequencyMinutes, after.anchorTime.map(StoredTime.millis), after.cronExpression, after.cronTimeZone,
                    after.destinationID, after.pausedAt.map(StoredTime.seconds),
                    after.systemPausedAt.map(StoredTime.seconds), after.systemPauseReason,
                    after.nextFireAt.map(StoredTime.millis), after.pendingRetry?.attempt,
                    after.pendingRetry.map { StoredTime.millis($0.occurrence) },
                    after.pendingRetry?.resumeAt.map(StoredTime.millis), StoredTime.seconds(now), id,
                ])
            guard let stored = try Self.fetchSource(db, id: id) else { throw StoreError.corruptValue("source row") }
            return stored
        }
    }

    // MARK: Delete

    /// Soft-deletes a source: it stays readable, never runs again, and keeps its name reserved.
    /// Deleting a deleted source changes nothing and returns it.
    public func deleteSource(id: Int64, actor: Actor, now: Date) async throws -> SourceRecord {
        try await writer.write { db in
            guard let before = try Self.fetchSource(db, id: id) else { throw SourceError.invalidID(id) }
            guard before.deletedAt == nil else { return before }
            try db.execute(
                sql: """
                    UPDATE sources SET deleted_at = ?, next_fire_at = NULL, retry_attempt = NULL, retry_occurrence = NULL,
                        retry_resume_at = NULL, updated_at = ? WHERE id = ?
                    """,
                arguments: [StoredTime.seconds(now), StoredTime.seconds(now), id])
            try Self.appendEvent(db, sourceID: id, kind: .deleted, actor: actor, at: now)
            guard let stored = try Self.fetchSource(db, id: id) else { throw StoreError.corruptValue("source row") }
            return stored
        }
    }

    // MARK: Scheduling state

    /// The next fire time after a change of a source: the shared rule
    /// (`SourceRecord.nextFire(before:after:…)`), with the last job start read from this database.
    static func nextFire(
        _ db: Database, before: SourceRecord, after: SourceRecord, scheduleEdited: Bool, catalog: SourceTypeCatalog,
        now: Date
    ) throws -> Date? {
        try SourceRecord.nextFire(before: before, after: after, scheduleEdited: scheduleEdited, catalog: catalog, now: now) {
            try lastJobStart(db, sourceID: after.id)
        }
    }

    /// The start of the source's most recent job, manual or scheduled.
    static func lastJobStart(_ db: Database, sourceID: Int64) throws -> Date? {
        try StoredTime.optional(
            String.fetchOne(db, sql: "SELECT max(started_at) FROM jobs WHERE source_id = ?", arguments: [sourceID]))
    }
}
