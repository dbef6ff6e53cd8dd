import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The README's first command, exactly as a new user types it: `tapline serve` with no flags, in
/// a fresh directory, state in the relative default `./.tapline`.
@Suite("End to end: first run")
struct FirstRunEndToEndTests {
    /// Whether something already listens on the README's port (a developer's own daemon).
    static func portIsFree(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    @Test("tapline serve with the embedded defaults: the demo job of the walk-through succeeds and writes ./.tapline/output")
    func readmeFirstCommand() async throws {
        let dir = NSTemporaryDirectory() + "tapline-first-run-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Exactly `tapline serve`; only when the README's port is taken on this machine does the
        // test move to a free one (through the environment, not a flag).
        let environment = Self.portIsFree(8080) ? [:] : ["TAPLINE_LISTEN": "127.0.0.1:0"]
        let daemon = try DaemonProcess(exactArguments: ["serve"], currentDirectory: dir, environment: environment)
        let api = try HTTPClient(address: try await daemon.address(), stateDirectory: dir + "/.tapline")
        let (created, _) = try await api.call(
            "POST", "/v4/sources",
            #"{"type":"platform.demo","display_name":"Demo Shop","properties":{"record_count":"100","api_key":"s3cret"}}"#)
        #expect(created == 200)
        try await api.waitFor("the first job to end") {
            let status = try await api.jobs(1).first?["status"] as? String
            return status != nil && status != "running"
        }
        let job = try #require(try await api.jobs(1).first)
        #expect(job["status"] as? String == "succeeded", "job: \(job)")
        #expect(job["tap_description"] is NSNull, "job: \(job)")
        let output = try String(contentsOfFile: dir + "/.tapline/output/users.jsonl", encoding: .utf8)
        #expect(output.split(separator: "\n").count == 100)
        // The job's private directory (configuration with the credential) is gone; the working
        // directory it ran in is still there.
        let jobs = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/.tapline/jobs")) ?? []
        #expect(jobs.isEmpty, "left behind: \(jobs)")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: dir + "/.tapline/work", isDirectory: &isDirectory) && isDirectory.boolValue)
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)
    }
}
