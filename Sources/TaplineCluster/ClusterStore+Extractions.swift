import Foundation
import PostgresNIO
import TaplineCore
import TaplineStoreContract

/// Stitch's account-wide reads in PostgreSQL, with SQLite's orders and filters, and the
/// health probe.
extension ClusterStore: ExtractionStore {
    public func lastExtractions(since: Date, page: Int, perPage: Int) async throws
        -> (jobs: [(job: JobRecord, sourceType: String)], total: Int)
    {
        let logger = database.logger
        let from = ClusterTime.millis(since)
        let offset = (page - 1) * perPage
        let columns = Self.jobColumns.split(separator: ",").map { "j." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .joined(separator: ", ")
        return try await database.transaction { connection in
            var total = 0
            for try await count in try await connection.query(
                """
                SELECT count(DISTINCT source_id) FROM jobs WHERE status <> 'running' AND completed_at >= \(from)
                """, logger: logger
            ).decode(Int.self) {
                total = count
            }
            var jobs: [(job: JobRecord, sourceType: String)] = []
            for try await row in try await connection.query(
                """
                SELECT \(unescaped: columns), s.type AS source_type FROM jobs j JOIN sources s ON s.id = j.source_id
                WHERE j.id IN (SELECT max(id) FROM jobs WHERE status <> 'running' AND completed_at >= \(from) GROUP BY source_id)
                ORDER BY j.source_id LIMIT \(perPage) OFFSET \(offset)
                """, logger: logger)
            {
                let type = try row.makeRandomAccess()["source_type"].decode(String.self)
                jobs.append((try Self.job(from: row), type))
            }
            return (jobs, total)
        }
    }

    public func loads(since: Date, page: Int, perPage: Int) async throws -> (loads: [StreamLoad], total: Int) {
        let logger = database.logger
        let from = ClusterTime.millis(since)
        let offset = (page - 1) * perPage
        return try await database.transaction { connection in
            var total = 0
            for try await count in try await connection.query(
                "SELECT count(*) FROM stream_loads WHERE updated_at >= \(from)", logger: logger
            ).decode(Int.self) {
                total = count
            }
            var loads: [StreamLoad] = []
            for try await (sourceID, sourceName, stream, loadedAt, errorState, records, jobName) in try await connection.query(
                """
                SELECT l.source_id, s.name, l.stream_name, l.last_batch_loaded_at, l.error_state, l.records, l.job_name
                FROM stream_loads l JOIN sources s ON s.id = l.source_id
                WHERE l.updated_at >= \(from) ORDER BY l.stream_name, l.source_id LIMIT \(perPage) OFFSET \(offset)
                """, logger: logger
            ).decode((Int64, String, String, Date?, String?, Int, String).self) {
                loads.append(
                    try StreamLoad(
                        sourceID: sourceID, sourceName: sourceName, streamName: stream, lastBatchLoadedAt: loadedAt.map(ClusterTime.read),
                        errorState: errorState, records: records, jobName: jobName))
            }
            return (loads, total)
        }
    }

    public func isReachable() async throws -> Bool {
        try await database.query("SELECT 1") { rows in
            for try await one in rows.decode(Int.self) { return one == 1 }
            return false
        }
    }
}
