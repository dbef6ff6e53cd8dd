import Foundation
import TaplineCluster
import TaplineCore
import TaplineStore

/// The backends the store's shared suites run against: SQLite in memory and in a file, and
/// PostgreSQL through `ClusterStore` when the server is installed (CI installs it).
public enum StoreBackend: String, Sendable, CaseIterable {
    case memory, disk, postgres

    public static var available: [StoreBackend] { PostgresServer.available ? [.memory, .disk, .postgres] : [.memory, .disk] }


    /// Runs `body` with a new, empty store of this backend (a SQLite one has the account's destination).
    public func withStore(
        catalog: SourceTypeCatalog, _ body: @Sendable (any SourceStore) async throws -> Void
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
            try await withClusterStore(catalog: catalog) { store, _ in try await body(store) }
        }
    }
}
