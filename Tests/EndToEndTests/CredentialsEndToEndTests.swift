import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Credentials sealed at rest, through the real binary: what `sqlite3` shows, what the tap gets,
/// `tapline credentials rotate-key`, and a start with the wrong key.
@Suite("End to end: credentials at rest", .serialized)
struct CredentialsEndToEndTests {
    @Test("sealed in the database, plain in the tap's configuration; rotate-key re-seals; a wrong key stops the start")
    func sealedAndRotated() async throws {
        let dir = NSTemporaryDirectory() + "tapline-e2e-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The tap copies the configuration it was given, then emits nothing.
        try "cp \"$2\" \"$0.seen\"\n".write(toFile: dir + "/tap.sh", atomically: true, encoding: .utf8)
        try """
        listen: 127.0.0.1:0
        source_types:
          - type: secretive
            tap: [/bin/sh, \(dir)/tap.sh]
            properties:
              - {name: password, credential: true}
        """.write(toFile: dir + "/tapline.yaml", atomically: true, encoding: .utf8)
        let arguments = ["--config", dir + "/tapline.yaml"]
        let state = dir + "/state"
        let database = state + "/tapline.db"
        var daemon = try DaemonProcess(stateDirectory: state, arguments: arguments)
        var api = try HTTPClient(address: try await daemon.address(), stateDirectory: state)
        try await api.call(
            "POST", "/v4/sources",
            #"{"type":"secretive","display_name":"S","properties":{"password":"hunter2-secret","frequency_in_minutes":"1440"}}"#)
        try await api.waitFor("the first job") { try await api.jobs(1).first?["status"] as? String == "succeeded" }
        let seen = try String(contentsOfFile: dir + "/tap.sh.seen", encoding: .utf8)
        #expect(seen.contains("hunter2-secret"), "the tap gets the plain value")
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)

        let sealed = try DaemonProcess.sqlite(database, "SELECT credentials FROM sources")
        #expect(sealed.hasPrefix(#"{"tapline_sealed":1,"key":"#) && !sealed.contains("hunter2"))
        let keyFile = state + "/credentials.key"
        var info = stat()
        #expect(stat(keyFile, &info) == 0 && info.st_mode & 0o777 == 0o600)

        let rotated = try DaemonProcess.cli(["credentials", "rotate-key", "--state-dir", state] + arguments)
        #expect(rotated.status == 0, "\(rotated.err)")
        #expect(rotated.out.hasPrefix("re-sealed 1 credentials value(s) with key "))
        let resealed = try DaemonProcess.sqlite(database, "SELECT credentials FROM sources")
        #expect(resealed != sealed && !resealed.contains("hunter2"))
        #expect(!FileManager.default.fileExists(atPath: keyFile + ".next"))

        // The rotated key opens them: a manual job gets the same password.
        try FileManager.default.removeItem(atPath: dir + "/tap.sh.seen")
        daemon = try DaemonProcess(stateDirectory: state, arguments: arguments)
        api = try HTTPClient(address: try await daemon.address(), stateDirectory: state)
        try await api.call("POST", "/v4/sources/1/sync")
        try await api.waitFor("the manual job") {
            let jobs = try await api.jobs(1)
            return jobs.count == 2 && jobs.first?["status"] as? String == "succeeded"
        }
        #expect(try String(contentsOfFile: dir + "/tap.sh.seen", encoding: .utf8).contains("hunter2-secret"))
        // While it runs, rotation is refused (it takes the daemon's lock).
        let refused = try DaemonProcess.cli(["credentials", "rotate-key", "--state-dir", state] + arguments)
        #expect(refused.status == 1 && refused.err.contains("tapline is running"), "\(refused.err)")
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)

        // Another key: a clear error naming the file, and nothing starts.
        let good = try Data(contentsOf: URL(fileURLWithPath: keyFile))
        FileManager.default.createFile(
            atPath: keyFile, contents: Data((Data(repeating: 1, count: 32).base64EncodedString() + "\n").utf8),
            attributes: [.posixPermissions: 0o600])
        let wrong = try DaemonProcess(stateDirectory: state, arguments: arguments)
        #expect(try await wrong.exitStatus() != 0)
        #expect(wrong.stderr.contains("credentials key file \(keyFile): the database's credentials are sealed with key"), "\(wrong.stderr)")
        try good.write(to: URL(fileURLWithPath: keyFile))
    }
}
