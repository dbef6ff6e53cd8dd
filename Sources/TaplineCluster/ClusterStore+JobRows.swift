import Foundation
import PostgresNIO
import TaplineStoreContract

/// Rows of the cluster's `jobs` and `destinations`, read into the records the rest of tapline uses.
extension ClusterStore {
    static let jobColumns = """
        id, job_name, source_id, trigger, scheduled_for, attempt, status, started_at, completed_at, discovery_exit_status,
        discovery_description, tap_exit_status, tap_description, target_exit_status, target_description,
        process_group, spawned_at, log_path, stream_records::text AS stream_records
        """

    /// A job from a row of `jobColumns`, by column name (the contract's decoder, as SQLite's).
    static func job(from row: PostgresRow) throws -> JobRecord {
        try JobRecord(stored: PostgresStoredRow(row))
    }

    static func jobs(from rows: PostgresRowSequence) async throws -> [JobRecord] {
        var jobs: [JobRecord] = []
        for try await row in rows { jobs.append(try job(from: row)) }
        return jobs
    }

    static let destinationColumns = "id, type, properties::text, credentials, created_at, updated_at, deleted_at"

    func destinations(from rows: PostgresRowSequence) async throws -> [DestinationRecord] {
        var records: [DestinationRecord] = []
        for try await (id, type, properties, credentials, created, updated, deleted) in rows.decode(
            (Int64, String, String, String, Date, Date, Date?).self)
        {
            records.append(
                DestinationRecord(
                    id: id, type: type, properties: try StoredJSON.decodeStrings(properties, what: "destination properties"),
                    credentials: try StoredJSON.decodeStrings(try self.rows.open(credentials), what: "destination credentials"),
                    createdAt: ClusterTime.read(created), updatedAt: ClusterTime.read(updated),
                    deletedAt: deleted.map(ClusterTime.read)))
        }
        return records
    }
}
