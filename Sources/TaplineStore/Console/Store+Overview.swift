import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

/// The console's reads in SQLite: one statement for the whole list, read off the writer (a WAL
/// reader), so a page of the console never waits behind a pause.
extension Store: ConsoleStore {
    public func sourceOverviews() async throws -> [SourceOverview] {
        try await writer.read { db in
            let rows = try Row.fetchCursor(db, sql: SourceOverview.query)
            var overviews: [SourceOverview] = []
            while let row = try rows.next() { overviews.append(try SourceOverview(stored: row.stored)) }
            return overviews
        }
    }

    public func jobActivity() async throws -> JobActivity {
        try await writer.read { db in
            let newest = try Int64.fetchOne(db, sql: "SELECT max(id) FROM jobs") ?? 0
            let row = try Row.fetchOne(db, sql: "SELECT count(*) AS n, coalesce(sum(id), 0) AS s FROM jobs WHERE status = 'running'")
            return JobActivity(newestJobID: newest, runningCount: row?["n"] ?? 0, runningIDSum: row?["s"] ?? 0)
        }
    }

    public func recentDeliveries(limit: Int) async throws -> [DeliverySummary] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: DeliverySummary.query + " LIMIT ?", arguments: [limit]).map { row in
                try DeliverySummary(stored: row.stored)
            }
        }
    }

    public func recordRequest(sourceID: Int64, kind: SourceEvent.Kind, actor: Actor, reason: String?, detail: String?, now: Date)
        async throws
    {
        try await writer.write { db in
            try Self.appendEvent(db, sourceID: sourceID, kind: kind, actor: actor, at: now, reason: reason, detail: detail)
        }
    }
}
