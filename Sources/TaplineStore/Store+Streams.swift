import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

extension Store {
    // MARK: Connection checks

    /// Records the start of a connection check and makes it the source's `check_job_name`.
    /// Returns `false` if one is already running for the source.
    public func startConnectionCheck(sourceID: Int64, name: String, now: Date) async throws -> Bool {
        try await writer.write { db in
            guard
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM connection_checks WHERE source_id = ? AND status = 'running'", arguments: [sourceID])
                    == 0
            else { return false }
            try db.execute(
                sql: "INSERT INTO connection_checks (name, source_id, status, started_at) VALUES (?, ?, 'running', ?)",
                arguments: [name, sourceID, StoredTime.millis(now)])
            try db.execute(sql: "UPDATE sources SET check_job_name = ? WHERE id = ?", arguments: [name, sourceID])
            return true
        }
    }

    /// Ends a check. With `streams`, the source's streams are replaced by them (selections of
    /// streams that are still there are kept) and, if the source thereby becomes fully
    /// configured, it is put on the schedule. Returns the source afterwards.
    @discardableResult
    public func finishConnectionCheck(
        name: String, exitStatus: Int, errorMessage: String?, streams: [DiscoveredStream]?, now: Date
    ) async throws -> SourceRecord? {
        let catalog = self.catalog
        return try await writer.write { db in
            guard let sourceID = try Int64.fetchOne(db, sql: "SELECT source_id FROM connection_checks WHERE name = ?", arguments: [name]),
                let before = try Self.fetchSource(db, id: sourceID)
            else { return nil }
            // A discovery succeeds with a catalog; a declared check (no catalog) by its exit status.
            let succeeded = exitStatus == 0 && errorMessage == nil
            try db.execute(
                sql: """
                    UPDATE connection_checks SET status = ?, completed_at = ?, discovery_exit_status = ?, discovery_error_message = ?
                    WHERE name = ? AND status = 'running'
                    """,
                arguments: [succeeded ? "succeeded" : "failed", StoredTime.millis(now), exitStatus, errorMessage, name])
            if let streams, succeeded {
                let kept = Dictionary(
                    try Row.fetchAll(
                        db, sql: "SELECT tap_stream_id, selected FROM source_streams WHERE source_id = ?", arguments: [sourceID]
                    )
                    .map { ($0["tap_stream_id"] as String, $0["selected"] as Bool?) }, uniquingKeysWith: { a, _ in a })
                try db.execute(sql: "DELETE FROM source_streams WHERE source_id = ?", arguments: [sourceID])
                for stream in streams {
                    let selected = kept[stream.tapStreamID] ?? nil
                    let metadata = selected.map { StreamRecord.settingSelected(stream.metadata, $0) } ?? stream.metadata
                    try db.execute(
                        sql: """
                            INSERT INTO source_streams (source_id, tap_stream_id, stream_name, schema, metadata, selected, catalog_entry)
                            VALUES (?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            sourceID, stream.tapStreamID, stream.streamName, stream.schema, metadata, selected, stream.catalogEntry,
                        ])
                }
            }
            guard let after = try Self.fetchSource(db, id: sourceID) else { return nil }
            return try Self.refreshSchedule(db, before: before, after: after, catalog: catalog, now: now)
        }
    }

    public func lastConnectionCheck(sourceID: Int64) async throws -> ConnectionCheck? {
        try await writer.read { db in
            try ConnectionCheck.fetchOne(
                db, sql: "SELECT * FROM connection_checks WHERE source_id = ? ORDER BY id DESC LIMIT 1", arguments: [sourceID])
        }
    }

    // MARK: Streams

    public func streams(sourceID: Int64) async throws -> [StreamRecord] {
        try await writer.read { db in
            try StreamRecord.fetchAll(db, sql: "SELECT * FROM source_streams WHERE source_id = ? ORDER BY id", arguments: [sourceID])
        }
    }

    /// The selected streams' catalog for a job (`--catalog`), or `nil` if the source has no streams.
    public func selectedCatalog(sourceID: Int64) throws -> String? {
        try writer.read { db in try Self.selectedCatalog(db, sourceID: sourceID) }
    }

    static func selectedCatalog(_ db: Database, sourceID: Int64) throws -> String? {
        try StreamRecord.catalog(
            try StreamRecord.fetchAll(db, sql: "SELECT * FROM source_streams WHERE source_id = ? ORDER BY id", arguments: [sourceID]))
    }

    /// Merges Singer metadata entries into the source's streams (by breadcrumb) and updates each
    /// stream's selection from its `selected` at the empty breadcrumb. Only non-discoverable keys
    /// may be set, and unsupported fields cannot be selected, as in Stitch.
    public func updateStreamMetadata(
        sourceID: Int64, changes: [(tapStreamID: String, entries: [[String: Any]])], now: Date
    ) async throws -> SourceRecord {
        let catalog = self.catalog
        let writable = Set(StreamMetadataKeys.writable)
        // JSON text crosses into the write closure (Foundation objects are not Sendable).
        let sent: [(tapStreamID: String, entries: Data)] = try changes.map {
            ($0.tapStreamID, try JSONSerialization.data(withJSONObject: $0.entries))
        }
        return try await writer.write { db in
            let changes: [(tapStreamID: String, entries: [[String: Any]])] = sent.map {
                ($0.tapStreamID, (try? JSONSerialization.jsonObject(with: $0.entries)) as? [[String: Any]] ?? [])
            }
            guard let before = try Self.fetchSource(db, id: sourceID) else { throw SourceError.invalidID(sourceID) }
            let rows = try StreamRecord.fetchAll(db, sql: "SELECT * FROM source_streams WHERE source_id = ?", arguments: [sourceID])
            let byID = Dictionary(rows.map { ($0.stream.tapStreamID, $0) }, uniquingKeysWith: { a, _ in a })
            let unknown = changes.map(\.tapStreamID).filter { byID[$0] == nil }
            if !unknown.isEmpty { throw StreamMetadataError.invalidTapStreamIDs(unknown) }
            for change in changes {
                guard let record = byID[change.tapStreamID] else { continue }
                let (text, selected) = try record.merging(change.entries, writable: writable)
                try db.execute(
                    sql: "UPDATE source_streams SET metadata = ?, selected = ? WHERE id = ?",
                    arguments: [text, selected ?? record.selected, record.id])
            }
            try db.execute(sql: "UPDATE sources SET updated_at = ? WHERE id = ?", arguments: [StoredTime.seconds(now), sourceID])
            guard let after = try Self.fetchSource(db, id: sourceID) else { throw StoreError.corruptValue("source row") }
            return try Self.refreshSchedule(db, before: before, after: after, catalog: catalog, now: now)
        }
    }

    // MARK: Helpers

    /// After a change that can make a source (un)schedulable without touching its schedule
    /// (discovery, stream selection): the same rules as any other change, then stored.
    static func refreshSchedule(
        _ db: Database, before: SourceRecord, after: SourceRecord, catalog: SourceTypeCatalog, now: Date
    ) throws -> SourceRecord {
        var result = after
        result.nextFireAt = try nextFire(db, before: before, after: after, scheduleEdited: false, catalog: catalog, now: now)
        if result.nextFireAt != after.nextFireAt { try setNextFire(db, sourceID: after.id, result.nextFireAt) }
        return result
    }
}

extension StreamRecord: FetchableRecord {
    public init(row: Row) throws {
        self.init(
            id: row["id"], sourceID: row["source_id"],
            stream: DiscoveredStream(
                tapStreamID: row["tap_stream_id"], streamName: row["stream_name"], schema: row["schema"], metadata: row["metadata"],
                catalogEntry: row["catalog_entry"]),
            selected: row["selected"])
    }
}

extension ConnectionCheck: FetchableRecord {
    public init(row: Row) throws {
        self.init(
            name: row["name"], sourceID: row["source_id"], status: row["status"],
            startedAt: try StoredTime.required(row["started_at"]), completedAt: try StoredTime.optional(row["completed_at"]),
            discoveryExitStatus: row["discovery_exit_status"], discoveryErrorMessage: row["discovery_error_message"])
    }
}
