import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

/// How SQLite rows of `jobs` become job records (times are ISO 8601 text).
extension JobRecord: FetchableRecord {
    public init(row: Row) throws {
        try self.init(stored: row.stored)
    }
}
