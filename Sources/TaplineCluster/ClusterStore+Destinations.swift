import Foundation
import Logging
import PostgresNIO
import TaplineCore
import TaplineStoreContract

/// The account's destination in PostgreSQL, with SQLite's rules: one live destination; deleting
/// it system-pauses every live source and creating one releases the sources that pause held.
///
/// Every destination write takes one transaction-scoped advisory lock first, so two nodes
/// creating the initial destination at the same start (or a create racing a delete) serialize
/// instead of both passing their check; source rows are then locked in id order.
extension ClusterStore {
    public func destinations() async throws -> [DestinationRecord] {
        try await database.query("SELECT \(unescaped: Self.destinationColumns) FROM destinations ORDER BY id") { rows in
            try await self.destinations(from: rows)
        }
    }

    @discardableResult
    public func createInitialDestination(type: String, properties: [String: String], credentials: [String: String], now: Date)
        async throws -> Bool
    {
        let logger = database.logger
        let sealed = try seal(credentials)
        return try await database.transaction { connection -> Bool in
            try await Self.lockDestinations(connection, logger: logger)
            for try await _ in try await connection.query("SELECT 1 FROM destinations LIMIT 1", logger: logger).decode(Int.self) {
                return false
            }
            _ = try await Self.insertDestination(
                connection, logger: logger, type: type, properties: properties, sealedCredentials: sealed, now: now)
            return true
        }
    }

    public func createDestination(type: String, properties: [String: String], credentials: [String: String], now: Date)
        async throws -> DestinationRecord
    {
        let logger = database.logger
        let catalog = self.catalog
        let sealed = try seal(credentials)
        return try await database.transaction { connection -> DestinationRecord in
            try await Self.lockDestinations(connection, logger: logger)
            guard try await !Self.hasLiveDestination(connection, logger: logger) else { throw DestinationError.alreadyExists }
            let id = try await Self.insertDestination(
                connection, logger: logger, type: type, properties: properties, sealedCredentials: sealed, now: now)
            let waiting = try await self.sources(
                from: try await connection.query(
                    """
                    SELECT \(unescaped: Self.sourceColumns) FROM sources
                    WHERE deleted_at IS NULL AND system_pause_reason = \(SystemPauseReason.noDestination)
                    ORDER BY id FOR UPDATE
                    """, logger: logger))
            for before in waiting {
                try await connection.query(
                    """
                    UPDATE sources SET system_paused_at = NULL, system_pause_reason = NULL,
                        updated_at = \(ClusterTime.seconds(now))
                    WHERE id = \(before.id)
                    """, logger: logger)
                try await Self.appendEvent(
                    connection, logger: logger, sourceID: before.id, kind: .systemUnpaused, actor: .system, at: now,
                    reason: "a destination was created")
                guard let after = try await self.fetchSource(connection, id: before.id, lock: false) else { continue }
                _ = try await self.refreshSchedule(connection, before: before, after: after, catalog: catalog, now: now)
            }
            guard let created = try await self.fetchDestination(connection, id: id) else {
                throw StoreError.corruptValue("destination row")
            }
            return created
        }
    }

    public func updateDestination(
        id: Int64, regular: [String: ValueChange<String>], credentials: [String: ValueChange<String>], now: Date
    ) async throws -> DestinationRecord {
        let logger = database.logger
        return try await database.transaction { connection -> DestinationRecord in
            try await Self.lockDestinations(connection, logger: logger)
            guard var record = try await self.fetchDestination(connection, id: id), record.deletedAt == nil else {
                throw DestinationError.unknownID(id)
            }
            for (key, change) in regular { record.properties[key] = change.newValue }
            for (key, change) in credentials { record.credentials[key] = change.newValue }
            try await connection.query(
                """
                UPDATE destinations SET properties = \(StoredJSON.encode(record.properties))::jsonb,
                    credentials = \(try self.seal(record.credentials)), updated_at = \(ClusterTime.seconds(now))
                WHERE id = \(id)
                """, logger: logger)
            guard let updated = try await self.fetchDestination(connection, id: id) else {
                throw StoreError.corruptValue("destination row")
            }
            return updated
        }
    }

    public func deleteDestination(id: Int64, now: Date) async throws -> DestinationRecord {
        let logger = database.logger
        return try await database.transaction { connection -> DestinationRecord in
            try await Self.lockDestinations(connection, logger: logger)
            guard let record = try await self.fetchDestination(connection, id: id), record.deletedAt == nil else {
                throw DestinationError.unknownID(id)
            }
            try await connection.query(
                """
                UPDATE destinations SET deleted_at = \(ClusterTime.seconds(now)), updated_at = \(ClusterTime.seconds(now))
                WHERE id = \(id)
                """, logger: logger)
            let live = try await self.rows.sources(
                from: try await connection.query(
                    """
                    SELECT \(unescaped: Self.sourceColumns) FROM sources
                    WHERE deleted_at IS NULL AND system_paused_at IS NULL ORDER BY id FOR UPDATE
                    """, logger: logger))
            for source in live {
                try await Self.systemPause(connection, logger: logger, source: source, reason: SystemPauseReason.noDestination, now: now)
            }
            guard let deleted = try await self.fetchDestination(connection, id: id) else {
                throw StoreError.corruptValue("destination row")
            }
            return deleted
        }
    }

    // MARK: Helpers

    /// Serializes destination writes across nodes until the transaction ends.
    static func lockDestinations(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(hashtext('tapline.destinations'))", logger: logger)
    }

    static func hasLiveDestination(_ connection: PostgresConnection, logger: Logger) async throws -> Bool {
        for try await _ in try await connection.query(
            "SELECT 1 FROM destinations WHERE deleted_at IS NULL", logger: logger
        ).decode(Int.self) {
            return true
        }
        return false
    }

    static func insertDestination(
        _ connection: PostgresConnection, logger: Logger, type: String, properties: [String: String],
        sealedCredentials: String, now: Date
    ) async throws -> Int64 {
        for try await id in try await connection.query(
            """
            INSERT INTO destinations (type, properties, credentials, created_at, updated_at)
            VALUES (\(type), \(StoredJSON.encode(properties))::jsonb, \(sealedCredentials), \(ClusterTime.seconds(now)),
                \(ClusterTime.seconds(now)))
            RETURNING id
            """, logger: logger
        ).decode(Int64.self) {
            return id
        }
        throw ClusterError.unexpected("a destination insert returned no id")
    }

    func fetchDestination(_ connection: PostgresConnection, id: Int64) async throws -> DestinationRecord? {
        try await destinations(
            from: try await connection.query(
                "SELECT \(unescaped: Self.destinationColumns) FROM destinations WHERE id = \(id)", logger: database.logger)
        ).first
    }
}
