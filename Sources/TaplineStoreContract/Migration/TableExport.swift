import Foundation

/// A column's value as the single node's SQLite file stores it.
public enum ExportedValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

/// One row of an exported table, its values in the order of the columns asked for.
public struct ExportedRow: Sendable {
    public let rowid: Int64
    public let values: [ExportedValue]

    public init(rowid: Int64, values: [ExportedValue]) {
        self.rowid = rowid
        self.values = values
    }
}

/// A single node's database read table by table, as `tapline store migrate` moves it into a
/// cluster: the SQLite backend provides it (`StoreExport`), the PostgreSQL backend's import
/// reads it, and neither module imports the other.
public protocol TableExport: Sendable {
    /// Where the database is, for messages.
    var path: String { get }
    /// Up to `limit` rows of `table` after `rowid`, with `columns` in that order.
    func rows(of table: String, columns: [String], after rowid: Int64, limit: Int) throws -> [ExportedRow]
    /// How many rows `table` has.
    func count(of table: String) throws -> Int
    /// The ids of the keys the stored credentials are sealed with.
    func sealedKeyIDs() throws -> Set<String>
    /// Webhook deliveries not yet made.
    func pendingDeliveries() throws -> Int
}
