import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import TaplineCore
import TaplineRuntime
import TaplineService
import Testing

/// The real daemon's application on an ephemeral loopback port, with an on-disk database.
@Suite("API: live server")
struct LiveServerTests {
    @Test("create → pause → unpause → delete over real HTTP, durable in SQLite")
    func walkthrough() async throws {
        let dir = NSTemporaryDirectory() + "tapline-live-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var configuration = TaplineConfiguration()
        configuration.listen = ListenAddress(host: "127.0.0.1", port: 0)
        configuration.stateDirectory = dir
        var logger = Logger(label: "tapline-test")
        logger.logLevel = .warning
        let daemon = try await Daemon.make(configuration: configuration, logger: logger, environment: [:])
        let token = try #require(try TokenFile.read(path: dir + "/token").first?.token)

        try await daemon.application().test(.live) { client in
            #expect(client.port != nil && client.port != 0)
            func call(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil) async throws -> (Int, [String: Any]) {
                let response = try await client.execute(
                    uri: path, method: method,
                    headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                    body: body.map { ByteBuffer(string: $0) })
                let json = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                return (Int(response.status.code), json ?? [:])
            }
            let (created, source) = try await call(
                .post, "/v4/sources", #"{"type":"platform.demo","display_name":"Live","properties":{"cron_expression":"* * * ? * *"}}"#)
            #expect(created == 200)
            #expect((source["schedule"] as? [String: Any])?["type"] as? String == "cron")
            let (paused, pausedSource) = try await call(.put, "/v4/sources/1", #"{"paused_at":"2026-01-01T00:00:00Z"}"#)
            #expect(paused == 200 && pausedSource["schedule"] is NSNull)
            let (unpaused, unpausedSource) = try await call(.put, "/v4/sources/1", #"{"paused_at":null}"#)
            #expect(unpaused == 200 && unpausedSource["paused_at"] is NSNull)
            #expect(unpausedSource["schedule"] is [String: Any])
            let (deleted, deletedSource) = try await call(.delete, "/v4/sources/1")
            #expect(deleted == 200 && deletedSource["deleted_at"] is String)
            let unauthorized = try await client.execute(uri: "/v4/sources", method: .get)
            #expect(unauthorized.status == .unauthorized)
        }
        let address = try String(contentsOfFile: dir + "/http.address", encoding: .utf8)
        #expect(address.hasPrefix("127.0.0.1:"))
        let kinds = try await daemon.embeddedStore!.events(sourceID: 1).map(\.kind.rawValue)
        #expect(kinds == ["created", "paused", "unpaused", "deleted"])
        #expect(try await daemon.embeddedStore!.integrityCheck() == ["ok"])
    }
}
