import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// The real binary: first start, the generated token, the single-instance lock, SIGTERM.
@Suite("End to end: daemon lifecycle", .serialized)
struct DaemonLifecycleTests {
    @Test("first start generates a private token; a second daemon on the same database is refused; SIGTERM exits 0")
    func lifecycle() async throws {
        let dir = NSTemporaryDirectory() + "tapline-e2e-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try DaemonProcess(stateDirectory: dir)
        let address = try await daemon.address()

        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/token")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let tokenText = try String(contentsOfFile: dir + "/token", encoding: .utf8)
        let token = try #require(tokenText.split(separator: "\n").first { !$0.hasPrefix("#") }.map(String.init))
        #expect(!daemon.stderr.contains(token), "the token must never be logged")
        #expect(daemon.stderr.contains(dir + "/token"), "the log says where the token is")

        var request = URLRequest(url: URL(string: "http://\(address)/v4/sources")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"{"type":"platform.demo","display_name":"E2E"}"#.utf8)
        let (body, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: body, as: UTF8.self).contains(#""name":"e2e""#))

        let second = try DaemonProcess(stateDirectory: dir)
        #expect(try await second.exitStatus() == 1)
        #expect(second.stderr.contains("already running"))
        #expect(second.stderr.contains("pid \(daemon.process.processIdentifier)"))

        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)
    }

    @Test("a bad configuration file stops the start with a message naming the key")
    func badConfiguration() async throws {
        let dir = NSTemporaryDirectory() + "tapline-e2e-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "listen: 127.0.0.1:0\napi:\n  max_body: 5\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(stateDirectory: dir + "/state", arguments: ["--config", dir + "/bad.yaml"])
        #expect(try await daemon.exitStatus() != 0)
        #expect(daemon.stderr.contains("api.max_body: unknown key"))
    }
}
