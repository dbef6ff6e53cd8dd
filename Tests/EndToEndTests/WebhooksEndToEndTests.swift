import Crypto
import Foundation
import Hummingbird
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Webhooks through the real binary, to a real receiver on loopback that fails on purpose and
/// then recovers, across a `kill -9` of the daemon.
@Suite("End to end: webhooks", .serialized)
struct WebhooksEndToEndTests {
    struct Received: Sendable {
        var headers: [String: String]
        var body: Data
        var status: Int
        var at: Date
    }

    /// An HTTP server on 127.0.0.1 that records every POST and answers `failing ? 503 : 200`.
    final class Receiver: Sendable {
        let received = Mutex<[Received]>([])
        let failing = Mutex(true)
        let port = Mutex<Int?>(nil)
        let task = Mutex<Task<Void, any Error>?>(nil)

        func start() async throws -> Int {
            let router = Router()
            router.post("/hook") { [self] request, context -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                var headers: [String: String] = [:]
                // Names as HTTP/2 writes them: lower case.
                for field in request.headers { headers[field.name.canonicalName] = field.value }
                let status = failing.withLock { $0 } ? 503 : 200
                received.withLock {
                    $0.append(Received(headers: headers, body: Data(buffer: body), status: status, at: Date()))
                }
                return Response(status: .init(code: status))
            }
            let app = Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { [self] channel in port.withLock { $0 = channel.localAddress?.port } })
            task.withLock { $0 = Task { try await app.runService() } }
            // Generous: the whole suite shares two cores with this server's start.
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if let bound = port.withLock({ $0 }) { return bound }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw ReceiverError(description: "the webhook receiver did not start listening within 60 s")
        }

        func stop() { task.withLock { $0?.cancel() } }
        var all: [Received] { received.withLock { $0 } }
    }

    static let secret = "a-webhook-secret-of-some-length"

    static func json(_ data: Data) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    @Test("job ends and system pauses are POSTed signed, retried while the receiver fails, and survive a kill -9")
    func deliveries() async throws {
        let receiver = Receiver()
        let port = try await receiver.start()
        defer { receiver.stop() }
        let dir = NSTemporaryDirectory() + "tapline-e2e-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(
            atPath: dir + "/secret", contents: Data((Self.secret + "\n").utf8), attributes: [.posixPermissions: 0o600])
        try """
        listen: 127.0.0.1:0
        jobs:
          failures_before_system_pause: 1
        notifications:
          timeout_seconds: 2
          webhooks:
            - name: ops
              url: http://127.0.0.1:\(port)/hook
              secret_file: \(dir)/secret
        """.write(toFile: dir + "/tapline.yaml", atomically: true, encoding: .utf8)
        let arguments = ["--config", dir + "/tapline.yaml"]
        var daemon = try DaemonProcess(stateDirectory: dir + "/state", arguments: arguments)
        var api = try HTTPClient(address: try await daemon.address(), stateDirectory: dir + "/state")

        // A failing scheduled job (due at once) system-pauses the source: two events.
        try await api.call(
            "POST", "/v4/sources",
            #"{"type":"platform.demo","display_name":"Hooks","properties":{"fail":"true","frequency_in_minutes":"60"}}"#)
        try await api.waitFor("two failed attempts of each event", timeout: 30) {
            let ids = receiver.all.compactMap { $0.headers["x-tapline-delivery"] }
            return Set(ids).count == 2 && ids.count >= 4
        }
        // Killed while both are still pending; the receiver recovers meanwhile.
        daemon.signal(SIGKILL)
        _ = try await daemon.exitStatus()
        let seenWhileFailing = Set(receiver.all.compactMap { $0.headers["x-tapline-delivery"] })
        receiver.failing.withLock { $0 = false }
        daemon = try DaemonProcess(stateDirectory: dir + "/state", arguments: arguments)
        api = try HTTPClient(address: try await daemon.address(), stateDirectory: dir + "/state")
        try await api.waitFor("both deliveries to succeed after the restart", timeout: 30) {
            Set(receiver.all.filter { $0.status == 200 }.compactMap { $0.headers["x-tapline-delivery"] }) == seenWhileFailing
        }
        let delivered = receiver.all.filter { $0.status == 200 }
        let events = Dictionary(delivered.map { (Self.json($0.body)["event"] as? String ?? "?", $0) }) { a, _ in a }
        #expect(Set(events.keys) == ["job.failed", "source.system_paused"])
        let failed = try #require(events["job.failed"])
        let body = Self.json(failed.body)
        #expect((body["source"] as? [String: Any])?["display_name"] as? String == "Hooks")
        let job = try #require(body["job"] as? [String: Any])
        #expect(job["status"] as? String == "failed" && job["trigger"] as? String == "scheduled" && job["tap_exit_status"] as? Int == 1)
        #expect(
            (Self.json(events["source.system_paused"]!.body)["reason"] as? String)?.hasPrefix("1 consecutive scheduled jobs failed") == true
        )
        // Every request is signed: HMAC-SHA256 of "<timestamp>.<body>".
        for request in receiver.all {
            let timestamp = try #require(request.headers["x-tapline-timestamp"])
            let mac = HMAC<SHA256>.authenticationCode(
                for: Data((timestamp + ".").utf8) + request.body, using: SymmetricKey(data: Data(Self.secret.utf8)))
            #expect(request.headers["x-tapline-signature"] == "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
            #expect(request.headers["x-tapline-event"] == Self.json(request.body)["event"] as? String)
        }

        // Now healthy: a manual success clears the system pause; both arrive within moments.
        try await api.call("PUT", "/v4/sources/1", #"{"properties":{"fail":"false"}}"#)
        let before = receiver.all.count
        try await api.call("POST", "/v4/sources/1/sync")
        try await api.waitFor("the manual job's end and the cleared pause", timeout: 15) {
            Set(receiver.all.dropFirst(before).compactMap { Self.json($0.body)["event"] as? String })
                == ["job.succeeded", "source.system_unpaused"]
        }
        let succeeded = try #require(receiver.all.dropFirst(before).first { Self.json($0.body)["event"] as? String == "job.succeeded" })
        let completed = try #require(
            ((Self.json(succeeded.body)["job"] as? [String: Any])?["completed_at"] as? String).flatMap {
                RetriesEndToEndTests.instant($0)
            })
        #expect(
            succeeded.at.timeIntervalSince(completed) < 2, "delivered \(succeeded.at.timeIntervalSince(completed)) s after the job ended")
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)
        // The outbox is visible in SQLite: four deliveries, all delivered.
        let rows = try DaemonProcess.sqlite(
            dir + "/state/tapline.db", "SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NOT NULL")
        #expect(rows == "4")
    }

    @Test("a missing or world-readable secret stops the start with an error naming the file")
    func badSecret() async throws {
        let dir = NSTemporaryDirectory() + "tapline-e2e-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/open", contents: Data(Self.secret.utf8), attributes: [.posixPermissions: 0o644])
        for (file, message) in [("missing", "cannot read \(dir)/missing"), ("open", "\(dir)/open is readable by other users")] {
            try """
            listen: 127.0.0.1:0
            notifications:
              webhooks:
                - {name: ops, url: "http://127.0.0.1:9/hook", secret_file: \(dir)/\(file)}
            """.write(toFile: dir + "/tapline.yaml", atomically: true, encoding: .utf8)
            let daemon = try DaemonProcess(stateDirectory: dir + "/state", arguments: ["--config", dir + "/tapline.yaml"])
            #expect(try await daemon.exitStatus() != 0)
            #expect(daemon.stderr.contains(message), "\(daemon.stderr)")
        }
    }
}

struct ReceiverError: Error, CustomStringConvertible {
    let description: String
}
