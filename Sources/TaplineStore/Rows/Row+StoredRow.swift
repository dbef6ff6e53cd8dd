import Foundation
import GRDB
import TaplineStoreContract

/// GRDB's row read by the contract's shared decoders: instants are ISO 8601 text here.
struct SQLiteStoredRow: StoredRow {
    let row: Row

    func int64(_ column: String) throws -> Int64? { row[column] }
    func int(_ column: String) throws -> Int? { row[column] }
    func string(_ column: String) throws -> String? { row[column] }
    func bool(_ column: String) throws -> Bool? { row[column] }
    func time(_ column: String) throws -> Date? { try StoredTime.optional(row[column]) }
}

extension Row {
    /// This row as the contract's decoders read it.
    var stored: SQLiteStoredRow { SQLiteStoredRow(row: self) }
}
