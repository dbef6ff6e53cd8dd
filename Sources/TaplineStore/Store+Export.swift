import Foundation
import GRDB
import TaplineStoreContract

/// A single node's database read table by table, to move it into a cluster's PostgreSQL
/// database (`tapline store migrate`). The rows are read as SQLite holds them, page by page in
/// rowid order, so memory stays bounded whatever the history's size; the caller holds the
/// daemon's lock for the whole move, so nothing writes in between.
public final class StoreExport: TableExport {
    public typealias Value = ExportedValue
    public typealias Row = ExportedRow

    public let path: String
    private let queue: DatabaseQueue

    /// Opens the file and brings its schema to this version's (as the daemon would at its next
    /// start). A file that is not a tapline database is refused.
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreExportError("no database at \(path)")
        }
        self.path = path
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        queue = try DatabaseQueue(path: path, configuration: configuration)
        let isTapline = try queue.read { db in try db.tableExists("sources") && db.tableExists("grdb_migrations") }
        guard isTapline else { throw StoreExportError("\(path) is not a tapline database (it has no sources table)") }
        try Store.migrator.migrate(queue)
    }

    /// Up to `limit` rows of `table` after `rowid`, with `columns` in that order. Table and column
    /// names come from the caller's fixed list, never from input.
    public func rows(of table: String, columns: [String], after rowid: Int64, limit: Int) throws -> [Row] {
        let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
        return try queue.read { db in
            try GRDB.Row.fetchAll(
                db, sql: "SELECT rowid, \(list) FROM \"\(table)\" WHERE rowid > ? ORDER BY rowid LIMIT ?", arguments: [rowid, limit]
            ).map { row in
                var values: [Value] = []
                values.reserveCapacity(columns.count)
                for index in 1...columns.count {
                    switch (row[index] as DatabaseValue).storage {
                    case .null: values.append(.null)
                    case .int64(let value): values.append(.integer(value))
                    case .double(let value): values.append(.real(value))
                    case .string(let value): values.append(.text(value))
                    case .blob:
                        throw StoreExportError(
                            "\(table).\(columns[index - 1]) holds a blob at rowid \(row[0] as Int64); tapline never writes one")
                    }
                }
                return Row(rowid: row[0], values: values)
            }
        }
    }

    /// How many rows `table` has.
    public func count(of table: String) throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \"\(table)\"") ?? 0 }
    }

    /// The ids of the keys the stored credentials are sealed with.
    public func sealedKeyIDs() throws -> Set<String> {
        try queue.read { db in try Store.sealedKeyIDs(db) }
    }

    /// Webhook deliveries not yet made.
    public func pendingDeliveries() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_deliveries WHERE next_attempt_at IS NOT NULL") ?? 0 }
    }
}

public struct StoreExportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
