import Foundation
import GRDB
import TaplineCore

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
            if try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM sources WHERE display_name = ? AND deleted_at IS NULL)",
                arguments: [new.displayName]) == true
            {
                throw SourceError.invalidName("non-unique name (\(new.displayName))")
            }
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM sources WHERE name = ?)", arguments: [new.name])
                == true
            {
                throw new.nameWasDerived
                    ? SourceError.invalidName(
                        "non-unique name after deriving it from display_name (\(new.displayName) -> \(new.name))")
                    : SourceError.invalidName("non-unique name (\(new.name))")
            }
            var record = SourceRecord(
                id: 0, name: new.name, displayName: new.displayName, type: new.type, properties: [:],
                credentials: [:], destinationID: new.destinationID, createdAt: now, updatedAt: now)
            record.apply(new.changes)
            if record.isSchedulable(in: catalog) {
                record.nextFireAt = NextFirePolicy.afterCreation(record.schedule(type: catalog[record.type]), now: now)
            }
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

            var after = before
            if let displayName = patch.displayName { after.displayName = displayName }
            if let destinationID = patch.destinationID { after.destinationID = destinationID }
            after.apply(patch.changes)
            switch patch.pause {
            case .pause(let shownAs): after.pausedAt = shownAs
            case .unpause: after.pausedAt = nil
            case nil: break
            }
            if patch.clearSystemPause {
                after.systemPausedAt = nil
                after.systemPauseReason = nil
            }
            after.nextFireAt = try Self.nextFire(
                db, before: before, after: after, scheduleEdited: patch.changes.touchesSchedule, catalog: catalog, now: now)
            after.updatedAt = now
            // A retry lives only as long as the due time it set.
            if after.nextFireAt != before.nextFireAt { after.pendingRetry = nil }

            if before.pausedAt == nil, after.pausedAt != nil {
                try Self.appendEvent(db, sourceID: id, kind: .paused, actor: actor, at: now)
            } else if before.pausedAt != nil, after.pausedAt == nil {
                try Self.appendEvent(db, sourceID: id, kind: .unpaused, actor: actor, at: now)
            }
            if before.systemPausedAt != nil, after.systemPausedAt == nil {
                try Self.appendEvent(
                    db, sourceID: id, kind: .systemUnpaused, actor: actor, at: now, reason: before.systemPauseReason)
            }
            let changedKeys = patch.changes.changedKeys
            if patch.displayName != nil || patch.destinationID != nil || !changedKeys.isEmpty {
                var detail = changedKeys
                if patch.displayName != nil { detail.insert("display_name", at: 0) }
                if patch.destinationID != nil { detail.append("destination_id") }
                try Self.appendEvent(
                    db, sourceID: id, kind: .updated, actor: actor, at: now, detail: detail.joined(separator: ","))
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

    /// The next fire time after a change of a source, by what the change did: made it
    /// unschedulable (none), made it schedulable again (unpause rules) or for the first time (a new
    /// source's rules), edited its schedule, or left the schedule alone (unchanged). Every write
    /// that can move a source's due time goes through here.
    static func nextFire(
        _ db: Database, before: SourceRecord, after: SourceRecord, scheduleEdited: Bool, catalog: SourceTypeCatalog,
        now: Date
    ) throws -> Date? {
        guard after.isSchedulable(in: catalog) else { return nil }
        let schedule = after.schedule(type: catalog[after.type])
        let lastStart = try lastJobStart(db, sourceID: after.id)
        if !before.isSchedulable(in: catalog) {
            if !before.isActive {
                return NextFirePolicy.afterUnpause(schedule, lastStart: lastStart, createdAt: before.createdAt, now: now)
            }
            return lastStart == nil
                ? NextFirePolicy.afterCreation(schedule, now: now)
                : NextFirePolicy.afterScheduleChange(schedule, lastStart: lastStart, now: now)
        }
        if scheduleEdited, schedule != before.schedule(type: catalog[before.type]) {
            return NextFirePolicy.afterScheduleChange(schedule, lastStart: lastStart, now: now)
        }
        return before.nextFireAt
    }

    /// The start of the source's most recent job, manual or scheduled.
    static func lastJobStart(_ db: Database, sourceID: Int64) throws -> Date? {
        try StoredTime.optional(
            String.fetchOne(db, sql: "SELECT max(started_at) FROM jobs WHERE source_id = ?", arguments: [sourceID]))
    }
}

extension SourceRecord {
    /// Merges validated property changes into the record, key by key.
    mutating func apply(_ changes: PropertyChanges) {
        for (key, change) in changes.regular { properties[key] = change.newValue }
        for (key, change) in changes.credentials { credentials[key] = change.newValue }
        if let change = changes.frequencyMinutes { frequencyMinutes = change.newValue }
        if let change = changes.anchorTime { anchorTime = change.newValue }
        if let change = changes.cronExpression { cronExpression = change.newValue?.text }
        if let change = changes.cronTimeZone { cronTimeZone = change.newValue }
    }
}

extension PropertyChanges {
    /// The names of the changed properties, sorted, for the audit trail (never their values).
    var changedKeys: [String] {
        var keys = Array(regular.keys) + Array(credentials.keys)
        if frequencyMinutes != nil { keys.append(SchedulingProperty.frequency) }
        if anchorTime != nil { keys.append(SchedulingProperty.anchorTime) }
        if cronExpression != nil { keys.append(SchedulingProperty.cronExpression) }
        if cronTimeZone != nil { keys.append(SchedulingProperty.cronTimeZone) }
        return keys.sorted()
    }
}
