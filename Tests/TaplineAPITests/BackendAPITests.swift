import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineAPI

/// The API over every store backend (SQLite in memory and on disk, PostgreSQL through
/// `ClusterStore`): the same requests get the same answers, whichever database holds the data.
@Suite("API: every backend")
struct BackendAPITests {
    /// Runs `body` against the real router over a fresh store of `kind`.
    static func withAPI(_ kind: StoreBackend, _ body: @escaping @Sendable (any TestClientProtocol, any APIStore) async throws -> Void)
        async throws
    {
        try await kind.withStore(catalog: SourceTypeCatalog(apiCatalogTypes)) { store in
            var dependencies = APIDependencies(
                store: store, tokens: TokenSet([("tester", testToken)]), stitchClientID: 116078, jobs: RecordingJobControl(),
                now: { clock.now })
            dependencies.destinationTypes = DestinationTypeCatalog(apiDestinationTypes)
            let app = Application(router: API.router(dependencies))
            try await app.test(.router) { client in try await body(client, store) }
        }
    }

    static func call(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil)
        async throws -> JSONResponse
    {
        let response = try await client.execute(
            uri: path, method: method, headers: [.contentType: "application/json", .authorization: "Bearer \(testToken)"],
            body: body.map { ByteBuffer(string: $0) })
        let text = String(buffer: response.body)
        let json = text.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        return JSONResponse(status: Int(response.status.code), text: text, json: json)
    }

    @Test(
        "create, pause, read, manual sync while paused, jobs, unpause, delete: the same answers on every backend",
        arguments: StoreBackend.available)
    func walkThrough(kind: StoreBackend) async throws {
        try await Self.withAPI(kind) { client, store in
            let created = try await Self.call(
                client, .post, "/v4/sources",
                #"{"type": "platform.postgres", "display_name": "Shop DB", "properties": {"host": "db", "password": "pw", "frequency_in_minutes": "30"}}"#
            )
            #expect(created.status == 200, "\(created.text)")
            let id = try #require(created["id"] as? Int)
            #expect(created["name"] as? String == "shop_db")
            #expect((created["properties"] as? [String: Any])?["password"] == nil, "credentials are never shown")

            let paused = try await Self.call(client, .put, "/v4/sources/\(id)", #"{"paused_at": "2026-11-29T10:00:00Z"}"#)
            #expect(paused.status == 200 && paused["paused_at"] as? String == "2026-11-29T10:00:00Z")
            let read = try await Self.call(client, .get, "/v4/sources/\(id)")
            #expect(read["paused_at"] as? String == "2026-11-29T10:00:00Z" && read["display_name"] as? String == "Shop DB")
            let listed = try await Self.call(client, .get, "/v4/sources")
            #expect(listed.array.map { $0["id"] as? Int } == [id])

            // Discovery first: the type has it, so a sync is refused until streams are selected.
            let refused = try await Self.call(client, .post, "/v4/sources/\(id)/sync")
            #expect(refused.status >= 400 && refused.status < 500, "\(refused.text)")
            #expect(try await store.startConnectionCheck(sourceID: Int64(id), name: "c1", now: clock.now))
            try await store.finishConnectionCheck(
                name: "c1", exitStatus: 0, errorMessage: nil,
                streams: [
                    DiscoveredStream(tapStreamID: "public-orders", streamName: "orders", schema: #"{"type":"object"}"#, metadata: "[]")
                ],
                now: clock.now)
            let streams = try await Self.call(client, .get, "/v4/sources/\(id)/streams")
            #expect(streams.array.map { $0["tap_stream_id"] as? String } == ["public-orders"], "\(streams.text)")
            let selected = try await Self.call(
                client, .put, "/v4/sources/\(id)/streams/metadata",
                #"{"streams": [{"tap_stream_id": "public-orders", "metadata": [{"breadcrumb": [], "metadata": {"selected": true}}]}]}"#)
            #expect(selected.status == 200, "\(selected.text)")

            let sync = try await Self.call(client, .post, "/v4/sources/\(id)/sync")
            #expect(sync.status == 200, "\(sync.text)")
            let jobName = try #require(sync["job_name"] as? String)
            let again = try await Self.call(client, .post, "/v4/sources/\(id)/sync")
            #expect(again.status == 200 && again.jobError.type == "already_running", "\(again.text)")
            let jobs = try await Self.call(client, .get, "/v4/sources/\(id)/jobs")
            #expect(jobs.text.contains(jobName), "\(jobs.text)")

            let unpaused = try await Self.call(client, .put, "/v4/sources/\(id)", #"{"paused_at": null}"#)
            #expect(unpaused.status == 200 && unpaused["paused_at"] is NSNull)
            let deleted = try await Self.call(client, .delete, "/v4/sources/\(id)")
            #expect(deleted.status == 200)
            let events = try await store.events(sourceID: Int64(id)).map(\.kind)
            #expect(events.first == .created && events.contains(.paused) && events.contains(.unpaused) && events.last == .deleted)
            let healthz = try await client.execute(uri: "/healthz", method: .get, headers: [:], body: nil)
            #expect(healthz.status == .ok)
        }
    }
}
