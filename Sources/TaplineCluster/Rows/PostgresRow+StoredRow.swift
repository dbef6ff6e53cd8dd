import Foundation
import PostgresNIO
import TaplineStoreContract

/// A PostgreSQL row read by the contract's shared decoders, by column name: instants are
/// `timestamptz`, read back exactly as tapline wrote them (`ClusterTime.read`).
struct PostgresStoredRow: StoredRow {
    let cells: PostgresRandomAccessRow

    init(_ row: PostgresRow) { cells = row.makeRandomAccess() }

    func int64(_ column: String) throws -> Int64? { try cells[column].decode(Int64?.self) }
    func int(_ column: String) throws -> Int? { try cells[column].decode(Int?.self) }
    func string(_ column: String) throws -> String? { try cells[column].decode(String?.self) }
    func bool(_ column: String) throws -> Bool? { try cells[column].decode(Bool?.self) }
    func time(_ column: String) throws -> Date? { try cells[column].decode(Date?.self).map(ClusterTime.read) }
}
