import Foundation
import PostgresNIO
import TaplineCore
import TaplineStoreContract

/// Rows of the cluster's `sources`, read into the records the rest of tapline uses (by the store
/// and by its change feed).
struct ClusterSourceRows: Sendable {
    /// Opens sealed credentials; `nil`: they are plain JSON.
    let cipher: CredentialCipher?

    static let columns = """
        id, name, display_name, type, properties::text AS properties, credentials, frequency_in_minutes, anchor_time,
        cron_expression, cron_timezone, destination_id, paused_at, system_paused_at, system_pause_reason, deleted_at,
        next_fire_at, retry_attempt, retry_occurrence, retry_resume_at, check_job_name, created_at, updated_at,
        EXISTS (SELECT 1 FROM source_streams ss WHERE ss.source_id = sources.id) AS discovered,
        EXISTS (SELECT 1 FROM source_streams ss WHERE ss.source_id = sources.id AND ss.selected) AS streams_selected
        """

    /// A source from a row of `columns`, by column name (the contract's decoder, as SQLite's), its
    /// credentials opened.
    func source(from row: PostgresRow) throws -> SourceRecord {
        try SourceRecord(stored: PostgresStoredRow(row), open: open)
    }

    /// The sources a query returned, in its order.
    func sources(from rows: PostgresRowSequence) async throws -> [SourceRecord] {
        var records: [SourceRecord] = []
        for try await row in rows { records.append(try source(from: row)) }
        return records
    }

    /// Stored credentials as plain JSON text.
    func open(_ stored: String) throws -> String {
        try cipher.map { try $0.open(stored) } ?? stored
    }

    func seal(_ credentials: [String: String]) throws -> String {
        let plain = StoredJSON.encode(credentials)
        return try cipher.map { try $0.seal(plain) } ?? plain
    }
}

extension ClusterStore {
    static var sourceColumns: String { ClusterSourceRows.columns }

    func sources(from rows: PostgresRowSequence) async throws -> [SourceRecord] {
        try await self.rows.sources(from: rows)
    }

    /// One source read on `connection`; `lock` takes its row `FOR UPDATE` until the transaction ends.
    func fetchSource(_ connection: PostgresConnection, id: Int64, lock: Bool) async throws -> SourceRecord? {
        let rows = try await connection.query(
            lock
                ? "SELECT \(unescaped: Self.sourceColumns) FROM sources WHERE id = \(id) FOR UPDATE"
                : "SELECT \(unescaped: Self.sourceColumns) FROM sources WHERE id = \(id)",
            logger: database.logger)
        return try await sources(from: rows).first
    }

    func seal(_ credentials: [String: String]) throws -> String { try rows.seal(credentials) }
    static func encode(_ map: [String: String]) -> String { StoredJSON.encode(map) }
}

/// Instants at the precision SQLite's store keeps them, so both backends return equal records:
/// whole seconds for what the API shows (`created_at`, `paused_at`, …), milliseconds for what the
/// scheduler computes with (`next_fire_at`, `anchor_time`, event times).
enum ClusterTime {
    static func seconds(_ date: Date) -> Date { Timestamp.parse(Timestamp.format(date), years: 1...9999) ?? date }
    static func millis(_ date: Date) -> Date { Timestamp.parse(Timestamp.formatMilliseconds(date), years: 1...9999) ?? date }
    /// An instant read back. PostgreSQL keeps microseconds, and postgres-nio truncates when it
    /// encodes a `Date`, so an instant written at a whole millisecond (as every instant tapline
    /// writes is) can come back a fraction of a microsecond early, which the millisecond
    /// formatting would show (and compare) as the millisecond before. Reads snap to the nearest
    /// millisecond, through the same parse as the writes.
    static func read(_ date: Date) -> Date { millis(date.addingTimeInterval(0.0005)) }
}
