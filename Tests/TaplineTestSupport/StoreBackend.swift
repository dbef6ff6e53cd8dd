import Foundation
import TaplineCluster
import TaplineCore
import TaplineStore
import TaplineStoreContract

/// What the shared suites call on a store: everything the daemon uses.
public typealias BackendStore = APIStore & HistoryStore

/// The backends the store's shared suites run against: SQLite in memory and in a file, and
/// PostgreSQL through `ClusterStore` when the server is installed (CI installs it).
public enum StoreBackend: String, Sendable, CaseIterable {
    case memory, disk, postgres

    public static var available: [StoreBackend] { PostgresServer.available ? [.memory, .disk, .postgres] : [.memory, .disk] }

    /// Runs `body` with a new, empty store of this backend with the account's destination; on
    /// PostgreSQL the store serves as a node that joined the cluster (an hour's lease).
    public func withStore(
        catalog: SourceTypeCatalog, _ body: @Sendable (any BackendStore) async throws -> Void
    ) async throws {
        switch self {
        case .memory:
            try await body(try Store.inMemory(catalog: catalog).withTestDestination())
        case .disk:
            let dir = NSTemporaryDirectory() + "tapline-test-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try await body(try Store.open(path: dir + "/tapline.db", catalog: catalog).withTestDestination())
        case .postgres:
            try await withClusterStore(catalog: catalog) { store, database in
                try await store.joinForTests(ClusterMembership(database: database), name: "test-node")
                try await store.createInitialDestination(type: "jsonl", properties: [:], credentials: [:], now: Date())
                try await body(store)
            }
        }
    }
}

extension ClusterStore {
    /// Joins the cluster as `name` with an hour's lease and serves as that node.
    public func joinForTests(_ membership: ClusterMembership, name: String) async throws {
        guard case .joined(let epoch) = try await membership.join(NodeIdentity(name: name, address: "127.0.0.1:0"), lease: 3600)
        else { throw ServerError("node \(name) could not join") }
        serve(asNode: name, epoch: epoch)
    }
}
