import Foundation
import PostgresNIO
import TaplineCore
import TaplineStoreContract

/// Every node of a cluster seals and opens credentials with one key. A node that started with
/// another key (a key file generated on its own first start, or not copied) would seal rows
/// the others cannot open, so the cluster records the id of its key and a node with a different
/// one does not start.
public enum ClusterKeyError: Error, CustomStringConvertible, Equatable {
    /// The cluster's key is `cluster`; this node has `node`.
    case otherKey(node: String, cluster: String, setBy: String)
    /// Rows are sealed with a key that is not this node's.
    case sealedWithOtherKey(node: String, found: String)
    /// A key cannot be replaced while a node holds a lease: it keeps the key it started with.
    case nodeServing(name: String, until: String)

    public var description: String {
        switch self {
        case .otherKey(let node, let cluster, let setBy):
            "this node's credentials key (id \(node)) is not the cluster's (id \(cluster), first used by node \(setBy)); copy the key file from a node of the cluster"
        case .sealedWithOtherKey(let node, let found):
            "the cluster's database holds credentials sealed with key id \(found), not with this node's key (id \(node)); copy the key file from a node of the cluster"
        case .nodeServing(let name, let until):
            "node \(name) holds a lease on the cluster's database until \(until) and keeps the key it started with; stop every node first"
        }
    }
}

extension ClusterStore {
    static let credentialsKeySetting = "credentials_key_id"

    /// The ids of the keys the cluster knows: the one it recorded and those its stored
    /// credentials are sealed with. Not empty: a node must not generate a key of its own.
    public static func credentialsKeyIDs(in database: ClusterDatabase) async throws -> Set<String> {
        try await database.query(
            """
            SELECT value FROM cluster_settings WHERE name = \(credentialsKeySetting)
            UNION SELECT DISTINCT credentials::jsonb ->> 'key' FROM sources WHERE credentials::jsonb ? 'tapline_sealed'
            UNION SELECT DISTINCT credentials::jsonb ->> 'key' FROM destinations WHERE credentials::jsonb ? 'tapline_sealed'
            """
        ) { rows in
            var ids: Set<String> = []
            for try await id in rows.decode(String?.self) {
                if let id { ids.insert(id) }
            }
            return ids
        }
    }

    /// Records `keyID` as the cluster's credentials key if none is recorded yet (the first node),
    /// and refuses it when another key is recorded or seals stored rows.
    public func adoptCredentialsKey(_ keyID: String, node: String) async throws {
        let logger = database.logger
        try await database.transaction { connection in
            try await Self.recordKey(keyID, setBy: node, connection: connection, logger: logger)
            for try await found in try await connection.query(
                """
                SELECT DISTINCT credentials::jsonb ->> 'key' FROM sources WHERE credentials::jsonb ? 'tapline_sealed'
                UNION SELECT DISTINCT credentials::jsonb ->> 'key' FROM destinations WHERE credentials::jsonb ? 'tapline_sealed'
                """, logger: logger
            ).decode(String?.self) {
                if let found, found != keyID { throw ClusterKeyError.sealedWithOtherKey(node: keyID, found: found) }
            }
        }
    }

    /// Records `keyID` as the cluster's credentials key if none is recorded yet, in the caller's
    /// transaction; `ClusterKeyError.otherKey` when another one is.
    static func recordKey(_ keyID: String, setBy: String, connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO cluster_settings (name, value, set_by) VALUES (\(credentialsKeySetting), \(keyID), \(setBy))
            ON CONFLICT (name) DO NOTHING
            """, logger: logger)
        for try await (value, recordedBy) in try await connection.query(
            "SELECT value, set_by FROM cluster_settings WHERE name = \(credentialsKeySetting)", logger: logger
        ).decode((String, String).self) where value != keyID {
            throw ClusterKeyError.otherKey(node: keyID, cluster: value, setBy: recordedBy)
        }
    }

    /// Re-seals every stored credential (sources and destinations) with `next` and records it as
    /// the cluster's key, in one transaction: all rows move to the new key or none does.
    /// Refused while any node holds a lease (each node keeps the key it started with, and would
    /// seal new rows with the old one) or when the cluster's recorded key is not `current`.
    /// Returns how many rows were re-sealed.
    public static func resealCredentials(
        in database: ClusterDatabase, current: CredentialCipher, next: CredentialCipher
    ) async throws -> Int {
        let logger = database.logger
        return try await database.transaction(limit: .seconds(600)) { connection in
            // A node joining now waits for this transaction (its join writes the same table).
            try await connection.query("LOCK TABLE nodes IN EXCLUSIVE MODE", logger: logger)
            if let serving = try await ClusterMembership.servingNode(connection, logger: logger) {
                throw ClusterKeyError.nodeServing(name: serving.name, until: Timestamp.format(serving.until))
            }
            for try await (value, setBy) in try await connection.query(
                "SELECT value, set_by FROM cluster_settings WHERE name = \(credentialsKeySetting) FOR UPDATE", logger: logger
            ).decode((String, String).self) where value != current.keyID {
                throw ClusterKeyError.otherKey(node: current.keyID, cluster: value, setBy: setBy)
            }
            var count = 0
            for table in ["sources", "destinations"] {
                var rows: [(Int64, String)] = []
                for try await row in try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT id, credentials FROM \(table) WHERE credentials <> '{}' ORDER BY id FOR UPDATE"),
                    logger: logger
                ).decode((Int64, String).self) {
                    rows.append(row)
                }
                for (id, stored) in rows {
                    let resealed = try next.seal(try current.open(stored))
                    var binds = PostgresBindings()
                    binds.append(resealed)
                    binds.append(id)
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "UPDATE \(table) SET credentials = $1 WHERE id = $2", binds: binds), logger: logger)
                    count += 1
                }
            }
            try await connection.query(
                """
                INSERT INTO cluster_settings (name, value, set_by) VALUES (\(credentialsKeySetting), \(next.keyID), 'tapline credentials rotate-key')
                ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, set_at = now(), set_by = EXCLUDED.set_by
                """, logger: logger)
            return count
        }
    }
}
