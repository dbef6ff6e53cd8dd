import Foundation
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

/// A node of a cluster asked for the log of a job another node ran: it serves the copy its
/// relay fetched (and removes it), says who no longer keeps it, or that it cannot be fetched now;
/// a relayed request is never relayed again.
@Suite("API: logs of jobs other nodes ran")
struct LogRelayAPITests {
    final class Relay: LogRelay, Sendable {
        let answer = Mutex<RelayedLog?>(nil)
        let asked = Mutex<[(String, String, String?)]>([])
        func fetch(jobName: String, path: String, authorization: String?) async -> RelayedLog? {
            asked.withLock { $0.append((jobName, path, authorization)) }
            return answer.withLock { $0 }
        }
    }

    /// A job whose log file is not on this node, and the API with `relay`.
    static func withRemoteJob(_ relay: Relay, _ body: @escaping @Sendable (any TestClientProtocol, String) async throws -> Void)
        async throws
    {
        let store = try Store.inMemory(catalog: SourceTypeCatalog(apiCatalogTypes)).withTestDestination()
        var dependencies = APIDependencies(
            store: store, tokens: TokenSet([("tester", testToken)]), stitchClientID: 116078, jobs: RecordingJobControl(),
            now: { clock.now })
        dependencies.logRelay = relay
        let app = Application(router: API.router(dependencies))
        try await app.test(.router) { client in
            let headers: HTTPFields = [.authorization: "Bearer \(testToken)", .contentType: "application/json"]
            let created = try await client.execute(
                uri: "/v4/sources", method: .post, headers: headers,
                body: ByteBuffer(string: #"{"type":"platform.demo","display_name":"Shop"}"#))
            #expect(created.status == .ok)
            let sync = try await client.execute(uri: "/v4/sources/1/sync", method: .post, headers: headers, body: nil)
            let name = try #require(
                (try JSONSerialization.jsonObject(with: Data(String(buffer: sync.body).utf8)) as? [String: Any])?["job_name"] as? String)
            let job = try #require(try await store.jobs(sourceID: 1, page: 1).jobs.first)
            try store.recordSpawned([SpawnedJob(jobID: job.id, processGroup: 1, spawnedAt: Date(), logPath: "/nonexistent/\(name).log")])
            try await body(client, name)
        }
    }

    static func get(_ client: any TestClientProtocol, _ name: String, relayed: Bool = false) async throws -> (HTTPResponse.Status, String) {
        var headers: HTTPFields = [.authorization: "Bearer \(testToken)"]
        if relayed { headers[ExtractionsController.relayedHeader] = "1" }
        let response = try await client.execute(uri: "/v4/116078/extractions/\(name)/log", method: .get, headers: headers, body: nil)
        return (response.status, String(buffer: response.body))
    }

    @Test("a fetched copy is served and then removed; the caller's token and path are what the relay forwards")
    func servesTheCopy() async throws {
        let relay = Relay()
        try await Self.withRemoteJob(relay) { client, name in
            let copy = NSTemporaryDirectory() + "tapline-relayed-\(UUID().uuidString).log"
            let text = String(repeating: "a line of the job's log\n", count: 10_000)
            try Data(text.utf8).write(to: URL(fileURLWithPath: copy))
            relay.answer.withLock { $0 = .file(path: copy) }
            let (status, body) = try await Self.get(client, name)
            #expect(status == .ok && body == text)
            #expect(!FileManager.default.fileExists(atPath: copy), "the copy is removed once served")
            let asked = try #require(relay.asked.withLock { $0.last })
            #expect(asked.0 == name && asked.1 == "/v4/116078/extractions/\(name)/log" && asked.2 == "Bearer \(testToken)")
        }
    }

    @Test("missing on its node: 404 naming the node; unreachable: a Stitch-shaped 503 saying why; not elsewhere: 404")
    func failures() async throws {
        let relay = Relay()
        try await Self.withRemoteJob(relay) { client, name in
            relay.answer.withLock { $0 = .missing(node: "n1") }
            let (missing, missingBody) = try await Self.get(client, name)
            #expect(missing == .notFound && missingBody.contains("ran on node n1"), "\(missingBody)")
            relay.answer.withLock { $0 = .unreachable("node n1 at 10.0.0.1:8080 did not answer") }
            let (down, downBody) = try await Self.get(client, name)
            #expect(down == .serviceUnavailable && downBody.contains("Unavailable") && downBody.contains("did not answer"), "\(downBody)")
            relay.answer.withLock { $0 = nil }
            let (here, hereBody) = try await Self.get(client, name)
            #expect(here == .notFound && hereBody.contains("no longer kept"), "\(hereBody)")
        }
    }

    @Test("a request another node relayed is answered from this node's files alone")
    func relayedOnce() async throws {
        let relay = Relay()
        try await Self.withRemoteJob(relay) { client, name in
            relay.answer.withLock { $0 = .unreachable("should not be asked") }
            let (status, _) = try await Self.get(client, name, relayed: true)
            #expect(status == .notFound)
            #expect(relay.asked.withLock { $0.isEmpty })
        }
    }
}
