import Foundation
import PostgresNIO
import TaplineCore
import TaplineStoreContract

/// The console's reads in PostgreSQL: the contract's statements and decoders (the same as
/// SQLite's), each under the transaction's deadline, so a stuck connection cannot hold a console
/// page forever.
extension ClusterStore: ConsoleStore {
    public func sourceOverviews() async throws -> [SourceOverview] {
        let logger = database.logger
        return try await database.transaction { connection in
            var overviews: [SourceOverview] = []
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: SourceOverview.query), logger: logger) {
                overviews.append(try SourceOverview(stored: PostgresStoredRow(row)))
            }
            return overviews
        }
    }

    public func jobActivity() async throws -> JobActivity {
        let logger = database.logger
        return try await database.transaction { connection in
            var activity = JobActivity(newestJobID: 0, runningCount: 0, runningIDSum: 0)
            for try await (newest, count, sum) in try await connection.query(
                """
                SELECT (SELECT coalesce(max(id), 0) FROM jobs), count(*)::bigint, coalesce(sum(id), 0)::bigint
                FROM jobs WHERE status = 'running'
                """, logger: logger
            ).decode((Int64, Int64, Int64).self) {
                activity = JobActivity(newestJobID: newest, runningCount: Int(count), runningIDSum: sum)
            }
            return activity
        }
    }

    public func recentDeliveries(limit: Int) async throws -> [DeliverySummary] {
        let logger = database.logger
        return try await database.transaction { connection in
            var deliveries: [DeliverySummary] = []
            var binds = PostgresBindings()
            binds.append(limit)
            let query = PostgresQuery(unsafeSQL: DeliverySummary.query + " LIMIT $1", binds: binds)
            for try await row in try await connection.query(query, logger: logger) {
                deliveries.append(try DeliverySummary(stored: PostgresStoredRow(row)))
            }
            return deliveries
        }
    }

    public func recordRequest(sourceID: Int64, kind: SourceEvent.Kind, actor: Actor, reason: String?, detail: String?, now: Date)
        async throws
    {
        let logger = database.logger
        try await database.transaction { connection in
            try await Self.appendEvent(
                connection, logger: logger, sourceID: sourceID, kind: kind, actor: actor, at: now, reason: reason, detail: detail)
        }
    }
}
