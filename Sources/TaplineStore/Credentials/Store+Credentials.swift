import Foundation
import GRDB
import TaplineStoreContract

extension Store {
    /// At every open: refuses a database whose credentials are sealed with another key (or
    /// sealed, and no key given), then seals every plain-text credentials value in one
    /// transaction: rows from before sealing existed, or written by hand with `sqlite3`.
    static func sealPlainCredentials(_ writer: any DatabaseWriter, cipher: CredentialCipher?) throws {
        try writer.write { db in
            for id in try sealedKeyIDs(db) where id != cipher?.keyID {
                if let cipher { throw CredentialKeyError.wrongKey(found: id, expected: cipher.keyID) }
                throw CredentialKeyError.missingKey(found: id)
            }
            guard cipher != nil else { return }
            for table in ["sources", "destinations"] {
                try db.execute(
                    sql: """
                        UPDATE \(table) SET credentials = tapline_seal(credentials)
                        WHERE credentials <> '{}' AND json_extract(credentials, '$.tapline_sealed') IS NULL
                        """)
            }
        }
    }

    /// The distinct key ids the stored credentials are sealed with.
    static func sealedKeyIDs(_ db: Database) throws -> Set<String> {
        Set(
            try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT json_extract(credentials, '$.key') FROM sources WHERE json_extract(credentials, '$.tapline_sealed') IS NOT NULL
                    UNION SELECT DISTINCT json_extract(credentials, '$.key') FROM destinations WHERE json_extract(credentials, '$.tapline_sealed') IS NOT NULL
                    """))
    }

    /// The key ids of the sealed credentials in the database file at `path`, read without opening
    /// the store (a missing key file must not be replaced by a new key while this is not empty).
    public static func sealedKeyIDs(path: String) throws -> Set<String> {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let queue = try DatabaseQueue(path: path)
        return try queue.read { db in try db.tableExists("sources") ? sealedKeyIDs(db) : [] }
    }

    /// Re-seals every credentials value with `next`, in one transaction: all rows move to the
    /// new key or none does. Returns how many rows were re-sealed.
    public func resealCredentials(with next: CredentialCipher) throws -> Int {
        guard let current = cipher else { throw CredentialKeyError.badKey("the store was opened without its key") }
        return try writer.write { db in
            var count = 0
            for table in ["sources", "destinations"] {
                let rows = try Row.fetchAll(db, sql: "SELECT id, credentials FROM \(table) WHERE credentials <> '{}'")
                for row in rows {
                    let plain = try current.open(row["credentials"])
                    try db.execute(
                        sql: "UPDATE \(table) SET credentials = ? WHERE id = ?", arguments: [try next.seal(plain), row["id"] as Int64])
                    count += 1
                }
            }
            return count
        }
    }
}
