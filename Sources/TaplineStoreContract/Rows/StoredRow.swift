import Foundation

/// One row as a backend reads it, by column name, so that turning a row into a record is
/// written once for both stores (`JobRecord+StoredRow.swift`, …). Each backend adapts its own
/// row type: SQLite keeps instants as ISO 8601 text, PostgreSQL as `timestamptz`; both answer
/// `time` with the instant as tapline wrote it. A column that is absent or of another type
/// throws; SQL NULL is `nil`.
package protocol StoredRow {
    func int64(_ column: String) throws -> Int64?
    func int(_ column: String) throws -> Int?
    func string(_ column: String) throws -> String?
    func bool(_ column: String) throws -> Bool?
    func time(_ column: String) throws -> Date?
}

extension StoredRow {
    /// A column tapline never leaves NULL; a NULL there is a corrupt row, not a crash.
    package func required<Value>(_ read: (String) throws -> Value?, _ column: String) throws -> Value {
        guard let value = try read(column) else { throw StoreError.corruptValue("\(column) (NULL where tapline always writes a value)") }
        return value
    }

    package func int64(required column: String) throws -> Int64 { try required(int64, column) }
    package func int(required column: String) throws -> Int { try required(int, column) }
    package func string(required column: String) throws -> String { try required(string, column) }
    package func time(required column: String) throws -> Date { try required(time, column) }
}
