import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

extension Store {

    public func destinations() async throws -> [DestinationRecord] {
        try await writer.read { db in
            try DestinationRecord.fetchAll(db, sql: "SELECT \(DestinationRecord.columns) FROM destinations ORDER BY id")
        }
    }

    static func liveDestination(_ db: Database) throws -> DestinationRecord? {
        try DestinationRecord.fetchOne(db, sql: "SELECT \(DestinationRecord.columns) FROM destinations WHERE deleted_at IS NULL")
    }

    /// Creates the destination a fresh install starts with, once: only when the table has never
    /// held a row (a destination deleted through the API is not brought back at the next start).
    @discardableResult
    public func createInitialDestination(type: String, properties: [String: String], credentials: [String: String], now: Date)
        throws -> Bool
    {
        try writer.write { db in
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM destinations") == 0 else { return false }
            try Self.insertDestination(db, type: type, properties: properties, credentials: credentials, now: now)
            return true
        }
    }

    /// Creates the account's destination; a second live one is refused, as Stitch refuses it.
    /// Sources system-paused because the destination was deleted are released, each with its
    /// next fire computed by the rule every change uses.
    public func createDestination(type: String, properties: [String: String], credentials: [String: String], now: Date)
        async throws -> DestinationRecord
    {
        let catalog = self.catalog
        return try await writer.write { db in
            guard try Self.liveDestination(db) == nil else { throw DestinationError.alreadyExists }
            let id = try Self.insertDestination(db, type: type, properties: properties, credentials: credentials, now: now)
            let created = try Self.fetchDestination(db, id: id)!
            let waiting = try SourceRecord.fetchAll(
                db, sql: "SELECT \(SourceRecord.columns) FROM sources WHERE deleted_at IS NULL AND system_pause_reason = ?",
                arguments: [SystemPauseReason.noDestination]
            )
            for before in waiting {
                try db.run(
                    "UPDATE sources SET system_paused_at = NULL, system_pause_reason = NULL, updated_at = ? WHERE id = ?",
                    [StoredTime.seconds(now), before.id])
                try Self.appendEvent(
                    db, sourceID: before.id, kind: .systemUnpaused, actor: .system, at: now, reason: "a destination was created")
                guard let after = try Self.fetchSource(db, id: before.id) else { continue }
                _ = try Self.refreshSchedule(db, before: before, after: after, catalog: catalog, now: now)
            }
            return created
        }
    }

    /// Merges property changes into the live destination `id`.
    public func updateDestination(
        id: Int64, regular: [String: ValueChange<String>], credentials: [String: ValueChange<String>], now: Date
    ) async throws -> DestinationRecord {
        try await writer.write { db in
            guard var record = try Self.fetchDestination(db, id: id), record.deletedAt == nil else {
                throw DestinationError.unknownID(id)
            }
            for (key, change) in regular { record.properties[key] = change.newValue }
            for (key, change) in credentials { record.credentials[key] = change.newValue }
            try db.run(
                "UPDATE destinations SET properties = ?, credentials = tapline_seal(?), updated_at = ? WHERE id = ?",
                [StoredJSON.encode(record.properties), StoredJSON.encode(record.credentials), StoredTime.seconds(now), id])
            return try Self.fetchDestination(db, id: id)!
        }
    }

    /// Deletes the live destination `id` (softly) and, in the same transaction, system-pauses
    /// every live source that is not already system paused: no scheduled job can start until a
    /// new destination exists, enforced by the pause re-check of the start transaction.
    public func deleteDestination(id: Int64, now: Date) async throws -> DestinationRecord {
        try await writer.write { db in
            guard let record = try Self.fetchDestination(db, id: id), record.deletedAt == nil else {
                throw DestinationError.unknownID(id)
            }
            try db.run(
                "UPDATE destinations SET deleted_at = ?, updated_at = ? WHERE id = ?",
                [StoredTime.seconds(now), StoredTime.seconds(now), id])
            let deleted = try Self.fetchDestination(db, id: id)!
            let live = try SourceRecord.fetchAll(
                db, sql: "SELECT \(SourceRecord.columns) FROM sources WHERE deleted_at IS NULL AND system_paused_at IS NULL"
            )
            for source in live {
                try Self.systemPause(db, source: source, reason: SystemPauseReason.noDestination, now: now)
            }
            return deleted
        }
    }

    @discardableResult
    static func insertDestination(_ db: Database, type: String, properties: [String: String], credentials: [String: String], now: Date)
        throws -> Int64
    {
        try db.run(
            "INSERT INTO destinations (type, properties, credentials, created_at, updated_at) VALUES (?, ?, tapline_seal(?), ?, ?)",
            [type, StoredJSON.encode(properties), StoredJSON.encode(credentials), StoredTime.seconds(now), StoredTime.seconds(now)])
        return db.lastInsertedRowID
    }

    static func fetchDestination(_ db: Database, id: Int64) throws -> DestinationRecord? {
        try DestinationRecord.fetchOne(db, sql: "SELECT \(DestinationRecord.columns) FROM destinations WHERE id = ?", arguments: [id])
    }
}

/// How SQLite rows of `destinations` become records (credentials opened by `tapline_open`).
extension DestinationRecord: FetchableRecord {
    /// The columns to read, credentials opened (`CredentialCipher`).
    static let columns = "id, type, properties, tapline_open(credentials) AS credentials, created_at, updated_at, deleted_at"

    public init(row: Row) throws {
        self.init(
            id: row["id"], type: row["type"], properties: try StoredJSON.decodeStrings(row["properties"]),
            credentials: try StoredJSON.decodeStrings(row["credentials"]), createdAt: try StoredTime.required(row["created_at"]),
            updatedAt: try StoredTime.required(row["updated_at"]), deletedAt: try StoredTime.optional(row["deleted_at"]))
    }
}
