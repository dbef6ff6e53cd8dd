import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import NIOCore
import TaplineCore
import TaplineRuntime
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport

@testable import TaplineAPI

let testToken = "ac_test_token_0123456789"
/// A clock at a fixed instant, so responses have predictable timestamps.
let clock = ManualClock(Timestamp.parse("2026-11-29T10:00:00Z")!)

/// The demo type plus one with a required property, a credential and discovery.
let apiCatalogTypes = [
    DemoSourceType.definition,
    SourceType(
        type: "platform.postgres", displayName: "PostgreSQL",
        properties: [
            PropertySpec(name: "host", isRequired: true),
            PropertySpec(name: "password", isCredential: true),
            PropertySpec(name: "port", pattern: "^[0-9]+$"),
        ],
        defaultFrequencyMinutes: 30, allowedFrequencies: [1, 30, 60], supportsDiscovery: true,
        tapCommand: ["tap-postgres"]),
]

/// A decoded JSON response.
struct JSONResponse {
    let status: Int
    let text: String
    let json: Any?

    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    subscript(_ key: String) -> Any? { object[key] }

    /// Stitch's replication-jobs error body: (type, message).
    var jobError: (type: String?, message: String?) {
        let error = object["error"] as? [String: Any]
        return (error?["type"] as? String, error?["message"] as? String)
    }

    /// Stitch's sources error body: (code, message).
    var sourcesError: (code: String?, message: String?) {
        (object["error"] as? String, (object["data"] as? [String: Any])?["message"] as? String)
    }
}

/// The built-in JSONL destination type and a PostgreSQL one with typed and credential properties.
let apiDestinationTypes = [
    BuiltInDestinationType.jsonl,
    DestinationType(
        type: "pg", stitchType: "postgres", displayName: "PostgreSQL", target: ["target-postgres"],
        config: ["primary_key_required": .bool(false)],
        properties: [
            PropertySpec(name: "host", isRequired: true), PropertySpec(name: "port", valueType: .integer),
            PropertySpec(name: "password", isCredential: true),
        ]),
]

/// Records what the API asks of the job runner.
final class RecordingJobControl: JobControl, @unchecked Sendable {
    private let lock = NSLock()
    private var _started: [String] = []
    private var _stopped: [Int64] = []
    var started: [String] { lock.withLock { _started } }
    var stopped: [Int64] { lock.withLock { _stopped } }
    func start(_ job: JobRecord, source: SourceRecord) { lock.withLock { _started.append(job.jobName) } }
    func stop(sourceID: Int64) -> Bool {
        lock.withLock {
            _stopped.append(sourceID)
            return true
        }
    }
}

/// Runs `body` against the real router (no sockets) over a fresh store.
func withAPI(
    store: Store? = nil, maxBodyBytes: Int = 1 << 20,
    _ body: @escaping @Sendable (APIClient) async throws -> Void
) async throws {
    let store = try store ?? Store.inMemory(catalog: SourceTypeCatalog(apiCatalogTypes)).withTestDestination()
    let jobs = RecordingJobControl()
    var dependencies = APIDependencies(
        store: store, tokens: TokenSet([("tester", testToken), ("ci", "ac_other")]), stitchClientID: 116078,
        maxBodyBytes: maxBodyBytes, jobs: jobs, now: { clock.now })
    dependencies.destinationTypes = DestinationTypeCatalog(apiDestinationTypes)
    dependencies.unavailable = Store.unavailableReason
    let app = Application(router: API.router(dependencies))
    try await app.test(.router) { client in
        try await body(APIClient(client: client, store: store, jobs: jobs))
    }
}

/// Sends requests the way Stitch clients do: bearer token and a JSON content type on every call.
struct APIClient: Sendable {
    let client: any TestClientProtocol
    let store: Store
    let jobs: RecordingJobControl

    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ path: String, body: String? = nil, token: String? = testToken,
        headers extra: HTTPFields = [:]
    ) async throws -> JSONResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        for field in extra { headers[field.name] = field.value }
        let response = try await client.execute(
            uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        let text = String(buffer: response.body)
        let json = text.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        return JSONResponse(status: Int(response.status.code), text: text, json: json)
    }

    func create(_ body: String) async throws -> JSONResponse { try await call(.post, "/v4/sources", body: body) }

    func sourceCount() async throws -> Int { try await store.allSources().count }
}

/// Runs `body` while another connection holds the write lock of the SQLite file at `path`, as
/// `sqlite3` with `BEGIN IMMEDIATE` would: the store's writes give up after their busy timeout.
func withForeignWriteLock<T>(on path: String, _ body: () async throws -> T) async throws -> T {
    let other = try DatabaseQueue(path: path)
    let held = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)
    Thread {
        try? other.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            held.signal()
            release.wait()
            try db.execute(sql: "ROLLBACK")
        }
    }.start()
    held.wait()
    defer { release.signal() }
    return try await body()
}
