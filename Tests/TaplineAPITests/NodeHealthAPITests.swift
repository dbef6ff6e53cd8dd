import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineAPI

/// A node of a cluster: `/healthz` names it and its lease, and errors its shell calls
/// "unavailable" (the database out of reach, the lease not held) are a Stitch-shaped 503.
@Suite("API: a cluster node's health")
struct NodeHealthAPITests {
    final class Lease: NodeHealth, Sendable {
        let nodeName = "n2"
        let epoch = Mutex<Int64?>(nil)
        var heldEpoch: Int64? { epoch.withLock { $0 } }
    }

    static func withNodeAPI(_ lease: Lease, _ body: @escaping @Sendable (APIClient) async throws -> Void) async throws {
        let store = try Store.inMemory(catalog: SourceTypeCatalog(apiCatalogTypes)).withTestDestination()
        let jobs = RecordingJobControl()
        var dependencies = APIDependencies(
            store: store, tokens: TokenSet([("tester", testToken)]), stitchClientID: 116078, jobs: jobs, now: { clock.now })
        dependencies.node = lease
        let app = Application(router: API.router(dependencies))
        try await app.test(.router) { client in try await body(APIClient(client: client, store: store, jobs: jobs)) }
    }

    @Test("/healthz names the node and its lease: 503 until it holds one, 200 with its epoch after")
    func healthzReportsTheLease() async throws {
        let lease = Lease()
        try await Self.withNodeAPI(lease) { api in
            let before = try await api.call(.get, "/healthz", token: nil)
            #expect(before.status == 503 && before["status"] as? String == "unhealthy", "\(before.text)")
            let node = try #require(before["node"] as? [String: Any])
            #expect(node["name"] as? String == "n2" && node["lease"] as? String == "not_held" && node["epoch"] is NSNull)
            lease.epoch.withLock { $0 = 3 }
            let after = try await api.call(.get, "/healthz", token: nil)
            #expect(after.status == 200 && after["status"] as? String == "ok", "\(after.text)")
            let held = try #require(after["node"] as? [String: Any])
            #expect(held["lease"] as? String == "held" && held["epoch"] as? Int == 3)
            #expect(after["store"] as? Bool == true && after["scheduler"] as? Bool == true)
        }
    }

    @Test("a single node's /healthz has no node field")
    func singleNodeHasNoNode() async throws {
        try await withAPI { api in
            let health = try await api.call(.get, "/healthz", token: nil)
            #expect(health.status == 200 && health["node"] == nil, "\(health.text)")
        }
    }

    @Test("an error the shell's classifier calls unavailable is a 503 with Retry-After and the shell's reason, never a 500")
    func unavailableIs503() async throws {
        let dir = NSTemporaryDirectory() + "tapline-unavailable-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store.open(path: dir + "/t.db", catalog: SourceTypeCatalog(apiCatalogTypes), busyTimeout: 0.2)
        var dependencies = APIDependencies(
            store: store, tokens: TokenSet([("tester", testToken)]), stitchClientID: 116078, jobs: RecordingJobControl(),
            now: { clock.now })
        dependencies.unavailable = { Store.isBusy($0) ? "the node's lease is not held; retry on another node" : nil }
        let app = Application(router: API.router(dependencies))
        // Another connection holds the write lock: the store throws its busy error.
        try await withForeignWriteLock(on: dir + "/t.db") {
            try await app.test(.router) { client in
                let response = try await client.execute(
                    uri: "/v4/sources", method: .post,
                    headers: [.authorization: "Bearer \(testToken)", .contentType: "application/json"],
                    body: ByteBuffer(string: #"{"type":"platform.demo","display_name":"Shop"}"#))
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "1")
                let text = String(buffer: response.body)
                #expect(text.contains("Unavailable") && text.contains("lease is not held"), "\(text)")
            }
        }
    }
}
