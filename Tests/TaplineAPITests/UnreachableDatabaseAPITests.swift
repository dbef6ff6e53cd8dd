import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import TaplineCluster
import TaplineCore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineAPI

/// A node whose PostgreSQL is out of reach answers every route with a Stitch-shaped 503 and
/// `Retry-After`, within its call limit, and serves again by itself once the database is back.
@Suite("API: the cluster's database out of reach", .enabled(if: PostgresServer.available, "needs PostgreSQL (apt-get install postgresql)"))
struct UnreachableDatabaseAPITests {
    /// How long one store call may take here (the daemon's is 8 s).
    static let callLimit = Duration.seconds(2)

    @Test("database refusing connections: each route answers 503 with Retry-After within the limit, then 200 once it is back")
    func databaseDown() async throws {
        let server = try PostgresServer.shared.get()
        try await withClusterStore(catalog: SourceTypeCatalog(apiCatalogTypes), callLimit: Self.callLimit) { store, database in
            try await store.joinForTests(ClusterMembership(database: database), name: "test-node")
            try await store.createInitialDestination(type: "jsonl", properties: [:], credentials: [:], now: Date())
            var dependencies = APIDependencies(
                store: store, tokens: TokenSet([("tester", testToken)]), stitchClientID: 116078, jobs: RecordingJobControl(),
                now: { clock.now })
            dependencies.unavailable = ClusterStore.unavailableReason
            let app = Application(router: API.router(dependencies))
            let name = database.location.database
            try await app.test(.router) { client in
                let created = try await Self.call(
                    client, .post, "/v4/sources", #"{"type": "platform.demo", "display_name": "Orders", "properties": {}}"#)
                #expect(created.status == 200, "\(created.text)")
                let id = try #require(created.json["id"] as? Int)

                // Down and staying down, as a stopped server looks to the pool: new connections
                // refused, the open ones ended.
                try server.superuser("ALTER DATABASE \(name) WITH ALLOW_CONNECTIONS false")
                try server.superuser("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'")
                defer { try? server.superuser("ALTER DATABASE \(name) WITH ALLOW_CONNECTIONS true") }

                let calls: [(HTTPRequest.Method, String, String?)] = [
                    (.get, "/v4/sources/\(id)", nil),
                    (.get, "/v4/sources", nil),
                    (.put, "/v4/sources/\(id)", #"{"paused_at": "2026-11-29T10:00:00Z"}"#),
                    (.post, "/v4/sources/\(id)/sync", nil),
                    (.delete, "/v4/sources/\(id)/sync", nil),
                    (.get, "/v4/sources/\(id)/streams", nil),
                    (.get, "/v4/sources/\(id)/jobs", nil),
                    (.get, "/v4/116078/extractions", nil),
                    (.get, "/v4/destinations", nil),
                    (.post, "/v4/sources", #"{"type": "platform.demo", "display_name": "Refunds", "properties": {}}"#),
                ]
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (method, path, body) in calls {
                        group.addTask {
                            let began = ContinuousClock.now
                            let answer = try await Self.call(client, method, path, body)
                            let took = ContinuousClock.now - began
                            #expect(answer.status == 503, "\(method) \(path): \(answer.status) \(answer.text)")
                            #expect(answer.retryAfter == "1", "\(method) \(path)")
                            #expect(answer.json["error"] as? String == "Unavailable", "\(method) \(path): \(answer.text)")
                            #expect(answer.text.contains("unreachable"), "\(method) \(path): \(answer.text)")
                            // The limit plus room for a busy machine; without a deadline on the
                            // wait for a connection this took until the pool gave up (~60 s).
                            #expect(took < Self.callLimit + .seconds(6), "\(method) \(path) took \(took)")
                        }
                    }
                    try await group.waitForAll()
                }

                try server.superuser("ALTER DATABASE \(name) WITH ALLOW_CONNECTIONS true")
                let deadline = ContinuousClock.now + .seconds(60)
                var back = try await Self.call(client, .get, "/v4/sources/\(id)")
                while back.status != 200 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                    back = try await Self.call(client, .get, "/v4/sources/\(id)")
                }
                #expect(back.status == 200, "the node did not serve again once the database was back: \(back.text)")
                #expect(back.json["paused_at"] is NSNull, "the pause answered 503 never reached the database, yet it was made")
            }
        }
    }

    struct Answer {
        let status: Int
        let text: String
        let retryAfter: String?
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
    }

    static func call(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil)
        async throws -> Answer
    {
        let response = try await client.execute(
            uri: path, method: method, headers: [.contentType: "application/json", .authorization: "Bearer \(testToken)"],
            body: body.map { ByteBuffer(string: $0) })
        return Answer(status: Int(response.status.code), text: String(buffer: response.body), retryAfter: response.headers[.retryAfter])
    }
}
