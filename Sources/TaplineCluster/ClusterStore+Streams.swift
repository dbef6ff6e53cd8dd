import Foundation
import Logging
import PostgresNIO
import TaplineCore
import TaplineStoreContract

/// Discovery and stream selection in PostgreSQL, with the rules of `StreamRecord+Catalog`; each
/// write locks the source row first, as every write that can change its schedule does.
extension ClusterStore: StreamStore {
    static let streamColumns = "id, source_id, tap_stream_id, stream_name, schema, metadata, selected, catalog_entry"

    /// Live sources that still await a connection check, as in SQLite.
    public func sourcesAwaitingCheck() async throws -> [SourceRecord] {
        let discovering = catalog.sorted.filter(\.supportsDiscovery).map(\.type)
        let checked = catalog.sorted.filter { !$0.supportsDiscovery && $0.checkCommand != nil }.map(\.type)
        guard !discovering.isEmpty || !checked.isEmpty else { return [] }
        return try await database.query(
            """
            SELECT \(unescaped: Self.sourceColumns) FROM sources
            WHERE deleted_at IS NULL AND (
                (type = ANY(\(discovering)) AND NOT EXISTS (SELECT 1 FROM source_streams ss WHERE ss.source_id = sources.id))
                OR (type = ANY(\(checked)) AND NOT EXISTS (SELECT 1 FROM connection_checks cc WHERE cc.source_id = sources.id)))
            ORDER BY id
            """
        ) { rows in try await self.sources(from: rows) }
    }

    // MARK: Connection checks

    /// Two nodes starting a check of one source at once: the row lock orders them, and the
    /// second sees the first's running check (`connection_checks_one_running` backs it up).
    public func startConnectionCheck(sourceID: Int64, name: String, now: Date) async throws -> Bool {
        let logger = database.logger
        return try await database.transaction { connection -> Bool in
            guard try await self.fetchSource(connection, id: sourceID, lock: true) != nil else { return false }
            for try await _ in try await connection.query(
                "SELECT 1 FROM connection_checks WHERE source_id = \(sourceID) AND status = 'running'", logger: logger
            ).decode(Int.self) {
                return false
            }
            try await connection.query(
                """
                INSERT INTO connection_checks (name, source_id, status, started_at)
                VALUES (\(name), \(sourceID), 'running', \(ClusterTime.millis(now)))
                """, logger: logger)
            try await connection.query("UPDATE sources SET check_job_name = \(name) WHERE id = \(sourceID)", logger: logger)
            return true
        }
    }

    @discardableResult
    public func finishConnectionCheck(name: String, exitStatus: Int, errorMessage: String?, streams: [DiscoveredStream]?, now: Date)
        async throws -> SourceRecord?
    {
        let logger = database.logger
        let catalog = self.catalog
        return try await database.transaction { connection -> SourceRecord? in
            var sourceID: Int64?
            for try await id in try await connection.query(
                "SELECT source_id FROM connection_checks WHERE name = \(name)", logger: logger
            ).decode(Int64.self) {
                sourceID = id
            }
            guard let sourceID, let before = try await self.fetchSource(connection, id: sourceID, lock: true) else { return nil }
            // A discovery succeeds with a catalog; a declared check (no catalog) by its exit status.
            let succeeded = exitStatus == 0 && errorMessage == nil
            try await connection.query(
                """
                UPDATE connection_checks SET status = \(succeeded ? "succeeded" : "failed"), completed_at = \(ClusterTime.millis(now)),
                    discovery_exit_status = \(exitStatus), discovery_error_message = \(errorMessage)
                WHERE name = \(name) AND status = 'running'
                """, logger: logger)
            if let streams, succeeded {
                var kept: [String: Bool?] = [:]
                for try await (id, selected) in try await connection.query(
                    "SELECT tap_stream_id, selected FROM source_streams WHERE source_id = \(sourceID)", logger: logger
                ).decode((String, Bool?).self) {
                    kept[id] = selected
                }
                try await connection.query("DELETE FROM source_streams WHERE source_id = \(sourceID)", logger: logger)
                for stream in streams {
                    let selected = kept[stream.tapStreamID] ?? nil
                    let metadata = selected.map { StreamRecord.settingSelected(stream.metadata, $0) } ?? stream.metadata
                    try await connection.query(
                        """
                        INSERT INTO source_streams (source_id, tap_stream_id, stream_name, schema, metadata, selected, catalog_entry)
                        VALUES (\(sourceID), \(stream.tapStreamID), \(stream.streamName), \(stream.schema), \(metadata), \(selected),
                            \(stream.catalogEntry))
                        """, logger: logger)
                }
            }
            guard let after = try await self.fetchSource(connection, id: sourceID, lock: false) else { return nil }
            return try await self.refreshSchedule(connection, before: before, after: after, catalog: catalog, now: now)
        }
    }

    public func lastConnectionCheck(sourceID: Int64) async throws -> ConnectionCheck? {
        try await database.query(
            """
            SELECT name, status, started_at, completed_at, discovery_exit_status, discovery_error_message
            FROM connection_checks WHERE source_id = \(sourceID) ORDER BY id DESC LIMIT 1
            """
        ) { rows in
            for try await (name, status, started, completed, exit, message) in rows.decode(
                (String, String, Date, Date?, Int?, String?).self)
            {
                return ConnectionCheck(
                    name: name, sourceID: sourceID, status: status, startedAt: ClusterTime.read(started),
                    completedAt: completed.map(ClusterTime.read), discoveryExitStatus: exit, discoveryErrorMessage: message)
            }
            return nil
        }
    }

    // MARK: Streams

    public func streams(sourceID: Int64) async throws -> [StreamRecord] {
        try await database.query("SELECT \(unescaped: Self.streamColumns) FROM source_streams WHERE source_id = \(sourceID) ORDER BY id") {
            rows in try await Self.streams(from: rows)
        }
    }

    /// The selected streams' catalog for a job (`--catalog`), or `nil` if the source has none.
    public func selectedCatalog(sourceID: Int64) async throws -> String? {
        try StreamRecord.catalog(try await streams(sourceID: sourceID))
    }

    public func updateStreamMetadata(sourceID: Int64, changes: [(tapStreamID: String, entries: [[String: Any]])], now: Date)
        async throws -> SourceRecord
    {
        let logger = database.logger
        let catalog = self.catalog
        let writable = Set(StreamMetadataKeys.writable)
        // JSON text crosses into the transaction (Foundation objects are not Sendable).
        let sent: [(tapStreamID: String, entries: Data)] = try changes.map {
            ($0.tapStreamID, try JSONSerialization.data(withJSONObject: $0.entries))
        }
        let wire = sent.map { StreamChange(tapStreamID: $0.tapStreamID, entries: $0.entries) }
        return try await database.transaction { connection -> SourceRecord in
            guard let before = try await self.fetchSource(connection, id: sourceID, lock: true) else {
                throw SourceError.invalidID(sourceID)
            }
            let rows = try await Self.streams(
                from: try await connection.query(
                    "SELECT \(unescaped: Self.streamColumns) FROM source_streams WHERE source_id = \(sourceID)", logger: logger))
            let byID = Dictionary(rows.map { ($0.stream.tapStreamID, $0) }, uniquingKeysWith: { a, _ in a })
            let unknown = wire.map(\.tapStreamID).filter { byID[$0] == nil }
            if !unknown.isEmpty { throw StreamMetadataError.invalidTapStreamIDs(unknown) }
            for change in wire {
                guard let record = byID[change.tapStreamID] else { continue }
                let entries = (try? JSONSerialization.jsonObject(with: change.entries)) as? [[String: Any]] ?? []
                let (text, selected) = try record.merging(entries, writable: writable)
                try await connection.query(
                    "UPDATE source_streams SET metadata = \(text), selected = \(selected ?? record.selected) WHERE id = \(record.id)",
                    logger: logger)
            }
            try await connection.query(
                "UPDATE sources SET updated_at = \(ClusterTime.seconds(now)) WHERE id = \(sourceID)", logger: logger)
            guard let after = try await self.fetchSource(connection, id: sourceID, lock: false) else {
                throw StoreError.corruptValue("source row")
            }
            return try await self.refreshSchedule(connection, before: before, after: after, catalog: catalog, now: now)
        }
    }

    // MARK: Helpers

    private struct StreamChange: Sendable {
        var tapStreamID: String
        var entries: Data
    }

    static func streams(from rows: PostgresRowSequence) async throws -> [StreamRecord] {
        var streams: [StreamRecord] = []
        for try await (id, sourceID, tapStreamID, name, schema, metadata, selected, entry) in rows.decode(
            (Int64, Int64, String, String, String, String, Bool?, String?).self)
        {
            streams.append(
                StreamRecord(
                    id: id, sourceID: sourceID,
                    stream: DiscoveredStream(
                        tapStreamID: tapStreamID, streamName: name, schema: schema, metadata: metadata, catalogEntry: entry),
                    selected: selected))
        }
        return streams
    }

    /// After a change that can make a source (un)schedulable without touching its schedule
    /// (discovery, stream selection, a system unpause): the rule every change uses, then stored.
    func refreshSchedule(
        _ connection: PostgresConnection, before: SourceRecord, after: SourceRecord, catalog: SourceTypeCatalog, now: Date
    ) async throws -> SourceRecord {
        let logger = database.logger
        var result = after
        result.nextFireAt = try await SourceRecord.nextFire(
            before: before, after: after, scheduleEdited: false, catalog: catalog, now: now,
            readingLastStart: { try await Self.lastJobStart(connection, logger: logger, sourceID: after.id) })
        if result.nextFireAt != after.nextFireAt {
            try await Self.setNextFire(connection, logger: database.logger, sourceID: after.id, result.nextFireAt)
        }
        return result
    }
}
