import Foundation
import PostgresNIO
import TaplineStore

/// Every node of a cluster seals and opens credentials with one key. A node that started with
/// another key (a key file generated on its own first start, or not copied) would seal rows
/// the others cannot open, so the cluster records the id of its key and a node with a different
/// one does not start.
public enum ClusterKeyError: Error, CustomStringConvertible, Equatable {
    /// The cluster's key is `cluster`; this node has `node`.
    case otherKey(node: String, cluster: String, setBy: String)
    /// Rows are sealed with a key that is not this node's.
    case sealedWithOtherKey(node: String, found: String)

    public var description: String {
        switch self {
        case .otherKey(let node, let cluster, let setBy):
            "this node's credentials key (id \(node)) is not the cluster's (id \(cluster), first used by node \(setBy)); copy the key file from a node of the cluster"
        case .sealedWithOtherKey(let node, let found):
            "the cluster's database holds credentials sealed with key id \(found), not with this node's key (id \(node)); copy the key file from a node of the cluster"
        }
    }
}

extension ClusterStore {
    static let credentialsKeySetting = "credentials_key_id"

    /// The ids of the keys the cluster knows: the one it recorded and those its stored
    /// credentials are sealed with. Not empty: a node must not generate a key of its own.
    public static func credentialsKeyIDs(in database: ClusterDatabase) async throws -> Set<String> {
        var ids: Set<String> = []
        for try await id in try await database.client.query(
            """
            SELECT value FROM cluster_settings WHERE name = \(credentialsKeySetting)
            UNION SELECT DISTINCT credentials::jsonb ->> 'key' FROM sources WHERE credentials::jsonb ? 'tapline_sealed'
            UNION SELECT DISTINCT credentials::jsonb ->> 'key' FROM destinations WHERE credentials::jsonb ? 'tapline_sealed'
            """, logger: database.logger
        ).decode(String?.self) {
            if let id { ids.insert(id) }
        }
        return ids
    }

    /// Records `keyID` as the cluster's credentials key if none is recorded yet (the first node),
    /// and refuses it when another key is recorded or seals stored rows.
    public func adoptCredentialsKey(_ keyID: String, node: String) async throws {
        let logger = database.logger
        try await database.transaction { connection in
            try await connection.query(
                """
                INSERT INTO cluster_settings (name, value, set_by) VALUES (\(Self.credentialsKeySetting), \(keyID), \(node))
                ON CONFLICT (name) DO NOTHING
                """, logger: logger)
            for try await (value, setBy) in try await connection.query(
                "SELECT value, set_by FROM cluster_settings WHERE name = \(Self.credentialsKeySetting)", logger: logger
            ).decode((String, String).self) where value != keyID {
                throw ClusterKeyError.otherKey(node: keyID, cluster: value, setBy: setBy)
            }
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
}
