import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

extension Store {
    /// The last completed job of every source (paused and deleted ones included) that completed
    /// one since `since`, by source id: Stitch's extractions list.
    public func lastExtractions(since: Date, page: Int, perPage: Int) async throws -> (
        jobs: [(job: JobRecord, sourceType: String)], total: Int
    ) {
        try await writer.read { db in
            let latest = """
                SELECT max(id) FROM jobs WHERE status != 'running' AND completed_at >= ? GROUP BY source_id
                """
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM (\(latest))", arguments: [StoredTime.millis(since)]) ?? 0
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.jobColumns.split(separator: ",").map { "j." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")),
                           s.type AS source_type
                    FROM jobs j JOIN sources s ON s.id = j.source_id
                    WHERE j.id IN (\(latest))
                    ORDER BY j.source_id LIMIT ? OFFSET ?
                    """,
                arguments: [StoredTime.millis(since), perPage, (page - 1) * perPage])
            return (try rows.map { (try JobRecord(row: $0), $0["source_type"] as String) }, total)
        }
    }

    /// The latest load of every stream loaded since `since`, by stream name: Stitch's loads list.
    public func loads(since: Date, page: Int, perPage: Int) async throws -> (loads: [StreamLoad], total: Int) {
        try await writer.read { db in
            let total =
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM stream_loads WHERE updated_at >= ?", arguments: [StoredTime.millis(since)]) ?? 0
            let rows = try StreamLoad.fetchAll(
                db,
                sql: """
                    SELECT l.*, s.name AS source_name FROM stream_loads l JOIN sources s ON s.id = l.source_id
                    WHERE l.updated_at >= ? ORDER BY l.stream_name, l.source_id LIMIT ? OFFSET ?
                    """,
                arguments: [StoredTime.millis(since), perPage, (page - 1) * perPage])
            return (rows, total)
        }
    }
}

extension StreamLoad: FetchableRecord {
    /// A `stream_loads` row joined with its source's `name` as `source_name`.
    public init(row: Row) throws {
        self.init(
            sourceID: row["source_id"], sourceName: row["source_name"], streamName: row["stream_name"],
            lastBatchLoadedAt: try StoredTime.optional(row["last_batch_loaded_at"]),
            failure: try (row["error_state"] as String?).map(LoadFailure.init(json:)),
            records: row["records"], jobName: row["job_name"])
    }
}
