import Foundation
import Logging
import PostgresNIO
import TaplineCore
import TaplineStoreContract

/// The source operations in PostgreSQL: the rules of `SourceRecord+Changes`, each call one
/// transaction.
extension ClusterStore {
    // MARK: Reads

    public func source(id: Int64) async throws -> SourceRecord? {
        try await database.query("SELECT \(unescaped: Self.sourceColumns) FROM sources WHERE id = \(id)") { rows in
            try await self.sources(from: rows).first
        }
    }

    public func allSources() async throws -> [SourceRecord] {
        try await database.query("SELECT \(unescaped: Self.sourceColumns) FROM sources ORDER BY id") { rows in
            try await self.sources(from: rows)
        }
    }

    public func sources(after id: Int64, limit: Int) async throws -> [SourceRecord] {
        try await database.query("SELECT \(unescaped: Self.sourceColumns) FROM sources WHERE id > \(id) ORDER BY id LIMIT \(limit)") {
            rows in try await self.sources(from: rows)
        }
    }

    // MARK: Create

    /// Name clashes are checked in the insert's transaction; two nodes creating the same name at
    /// once both pass that check, and the schema's unique indexes refuse the second insert: the
    /// create is then run again (the refusing insert waited for the other commit), and its
    /// check answers with the same clear error as SQLite's.
    public func createSource(_ new: NewSource, actor: Actor, now: Date) async throws -> SourceRecord {
        var attempt = 1
        while true {
            do {
                return try await insertSource(new, actor: actor, now: now)
            } catch let error as PSQLError where error.isUniqueViolation && attempt < 3 {
                attempt += 1
            }
        }
    }

    private func insertSource(_ new: NewSource, actor: Actor, now: Date) async throws -> SourceRecord {
        let logger = database.logger
        let record = SourceRecord.planCreation(new, catalog: catalog, now: now)
        let credentials = try seal(record.credentials)
        return try await database.transaction { connection in
            try await Self.markEdited(connection, logger: logger)
            var displayNameTaken = false
            var nameTaken = false
            for try await (live, any) in try await connection.query(
                """
                SELECT EXISTS (SELECT 1 FROM sources WHERE display_name = \(new.displayName) AND deleted_at IS NULL),
                       EXISTS (SELECT 1 FROM sources WHERE name = \(new.name))
                """, logger: logger
            ).decode((Bool, Bool).self) {
                displayNameTaken = live
                nameTaken = any
            }
            if let clash = new.nameClash(displayNameTaken: displayNameTaken, nameTaken: nameTaken) { throw clash }
            var id: Int64?
            for try await inserted in try await connection.query(
                """
                INSERT INTO sources (name, display_name, type, properties, credentials, frequency_in_minutes, anchor_time,
                    cron_expression, cron_timezone, destination_id, next_fire_at, created_at, updated_at)
                VALUES (\(record.name), \(record.displayName), \(record.type), \(Self.encode(record.properties))::jsonb,
                    \(credentials), \(record.frequencyMinutes), \(record.anchorTime.map(ClusterTime.millis)),
                    \(record.cronExpression), \(record.cronTimeZone), \(record.destinationID),
                    \(record.nextFireAt.map(ClusterTime.millis)), \(ClusterTime.seconds(now)), \(ClusterTime.seconds(now)))
                RETURNING id
                """, logger: logger
            ).decode(Int64.self) {
                id = inserted
            }
            guard let id else { throw ClusterError.unexpected("a source insert returned no id") }
            try await Self.appendEvent(connection, logger: logger, sourceID: id, kind: .created, actor: actor, at: now)
            guard let stored = try await self.fetchSource(connection, id: id, lock: false) else {
                throw StoreError.corruptValue("source row")
            }
            return stored
        }
    }

    // MARK: Update, pause, unpause

    /// Locks the row, applies the shared rules, writes row and events together. A pause is
    /// committed (PostgreSQL makes a commit durable before it answers) before this returns,
    /// and every node's scheduled start re-reads the pause columns under the same row lock.
    public func updateSource(id: Int64, patch: SourcePatch, actor: Actor, now: Date) async throws -> SourceRecord {
        let logger = database.logger
        let catalog = self.catalog
        return try await database.transaction { connection in
            guard let before = try await self.fetchSource(connection, id: id, lock: true) else { throw SourceError.invalidID(id) }
            guard before.deletedAt == nil else { throw SourceError.deleted(id) }
            guard !patch.isEmpty else { return before }
            try await Self.markEdited(connection, logger: logger)
            let plan = try await before.planUpdate(patch, catalog: catalog, now: now) {
                try await Self.lastJobStart(connection, logger: logger, sourceID: id)
            }
            for event in plan.events {
                try await Self.appendEvent(
                    connection, logger: logger, sourceID: id, kind: event.kind, actor: actor, at: now, reason: event.reason,
                    detail: event.detail)
            }
            let after = plan.after
            let credentials = try self.seal(after.credentials)
            try await connection.query(
                """
                UPDATE sources SET display_name = \(after.displayName), properties = \(Self.encode(after.properties))::jsonb,
                    credentials = \(credentials), frequency_in_minutes = \(after.frequencyMinutes),
                    anchor_time = \(after.anchorTime.map(ClusterTime.millis)), cron_expression = \(after.cronExpression),
                    cron_timezone = \(after.cronTimeZone), destination_id = \(after.destinationID),
                    paused_at = \(after.pausedAt.map(ClusterTime.seconds)),
                    system_paused_at = \(after.systemPausedAt.map(ClusterTime.seconds)),
                    system_pause_reason = \(after.systemPauseReason), next_fire_at = \(after.nextFireAt.map(ClusterTime.millis)),
                    retry_attempt = \(after.pendingRetry?.attempt),
                    retry_occurrence = \(after.pendingRetry.map { ClusterTime.millis($0.occurrence) }),
                    retry_resume_at = \(after.pendingRetry?.resumeAt.map(ClusterTime.millis)),
                    updated_at = \(ClusterTime.seconds(now))
                WHERE id = \(id)
                """, logger: logger)
            guard let stored = try await self.fetchSource(connection, id: id, lock: false) else {
                throw StoreError.corruptValue("source row")
            }
            return stored
        }
    }

    // MARK: Delete

    public func deleteSource(id: Int64, actor: Actor, now: Date) async throws -> SourceRecord {
        let logger = database.logger
        return try await database.transaction { connection in
            guard let before = try await self.fetchSource(connection, id: id, lock: true) else { throw SourceError.invalidID(id) }
            guard before.deletedAt == nil else { return before }
            try await connection.query(
                """
                UPDATE sources SET deleted_at = \(ClusterTime.seconds(now)), next_fire_at = NULL, retry_attempt = NULL,
                    retry_occurrence = NULL, retry_resume_at = NULL, updated_at = \(ClusterTime.seconds(now))
                WHERE id = \(id)
                """, logger: logger)
            try await Self.appendEvent(connection, logger: logger, sourceID: id, kind: .deleted, actor: actor, at: now)
            guard let stored = try await self.fetchSource(connection, id: id, lock: false) else {
                throw StoreError.corruptValue("source row")
            }
            return stored
        }
    }

    // MARK: System pause

    /// A source already system paused keeps its original time and reason; a deleted one is
    /// left alone.
    @discardableResult
    public func systemPause(sourceID: Int64, reason: String, now: Date) async throws -> SourceRecord? {
        let logger = database.logger
        return try await database.transaction { connection in
            guard let before = try await self.fetchSource(connection, id: sourceID, lock: true) else { return nil }
            guard try await Self.systemPause(connection, logger: logger, source: before, reason: reason, now: now) else { return before }
            return try await self.fetchSource(connection, id: sourceID, lock: false)
        }
    }

    /// The system pause inside the caller's transaction (which holds the row), as
    /// `SourceRecord.systemPausePlan` says: nothing for a source already system paused or
    /// deleted. Returns whether it wrote.
    @discardableResult
    static func systemPause(_ connection: PostgresConnection, logger: Logger, source: SourceRecord, reason: String, now: Date)
        async throws -> Bool
    {
        guard let plan = source.systemPausePlan(reason: reason, now: now) else { return false }
        try await connection.query(
            """
            UPDATE sources SET system_paused_at = \(ClusterTime.seconds(plan.pausedAt)), system_pause_reason = \(plan.reason),
                next_fire_at = NULL, retry_attempt = NULL, retry_occurrence = NULL, retry_resume_at = NULL,
                updated_at = \(ClusterTime.seconds(now))
            WHERE id = \(plan.sourceID)
            """, logger: logger)
        try await appendEvent(
            connection, logger: logger, sourceID: plan.sourceID, kind: plan.event.kind, actor: .system, at: now,
            reason: plan.event.reason, detail: plan.event.detail)
        return true
    }

    // MARK: Events

    public func events(sourceID: Int64) async throws -> [SourceEvent] {
        try await database.query("SELECT id, at, kind, actor, reason, detail FROM source_events WHERE source_id = \(sourceID) ORDER BY id")
        {
            rows in
            var events: [SourceEvent] = []
            for try await (id, at, kind, actor, reason, detail) in rows.decode((Int64, Date, String, String, String?, String?).self) {
                guard let kind = SourceEvent.Kind(rawValue: kind) else { throw StoreError.corruptValue("event kind") }
                events.append(
                    SourceEvent(
                        id: id, sourceID: sourceID, at: ClusterTime.read(at), kind: kind, actor: actor, reason: reason, detail: detail))
            }
            return events
        }
    }

    /// Appends an event inside the caller's transaction: the event and its change commit together.
    static func appendEvent(
        _ connection: PostgresConnection, logger: Logger, sourceID: Int64, kind: SourceEvent.Kind, actor: Actor, at: Date,
        reason: String? = nil, detail: String? = nil
    ) async throws {
        try await connection.query(
            """
            INSERT INTO source_events (source_id, at, kind, actor, reason, detail)
            VALUES (\(sourceID), \(ClusterTime.millis(at)), \(kind.rawValue), \(actor.name), \(reason), \(detail))
            """, logger: logger)
    }

    // MARK: Helpers

    /// Makes this transaction's notifications say "edited": observers then read the whole record.
    static func markEdited(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT set_config('tapline.edited', 'on', true)", logger: logger)
    }

    /// The start of the source's most recent job, manual or scheduled.
    static func lastJobStart(_ connection: PostgresConnection, logger: Logger, sourceID: Int64) async throws -> Date? {
        var last: Date?
        for try await started in try await connection.query(
            "SELECT max(started_at) FROM jobs WHERE source_id = \(sourceID)", logger: logger
        ).decode(Date?.self) {
            last = started
        }
        return last.map(ClusterTime.read)
    }
}

extension PSQLError {
    /// `23505 unique_violation`: a row another transaction committed first has the same key.
    var isUniqueViolation: Bool { serverInfo?[.sqlState] == "23505" }
}
