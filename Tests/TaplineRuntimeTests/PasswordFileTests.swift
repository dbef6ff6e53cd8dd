import Foundation
import TaplineRuntime
import Testing

/// The store password is one line of a file, or of a pipe (`--password-file /dev/stdin`, for a
/// password file only root may read while the command runs as the service user).
@Suite("Store password files")
struct PasswordFileTests {
    @Test("one line without its ending, from a file or a pipe; empty, missing and directories are errors naming the path")
    func reads() throws {
        let directory = NSTemporaryDirectory() + "tapline-pw-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/store-password"
        try "s3cret\r\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try ClusterSettings.readPassword(path: file).password == "s3cret")

        let pipe = Pipe()
        pipe.fileHandleForWriting.write(Data("from-a-pipe\n".utf8))
        try pipe.fileHandleForWriting.close()
        #expect(try ClusterSettings.readPassword(path: "/dev/fd/\(pipe.fileHandleForReading.fileDescriptor)").password == "from-a-pipe")

        let empty = directory + "/empty"
        try "\n".write(toFile: empty, atomically: true, encoding: .utf8)
        #expect(throws: ClusterSettings.PasswordFileError.self) { try ClusterSettings.readPassword(path: empty) }
        do {
            _ = try ClusterSettings.readPassword(path: directory + "/missing")
            Issue.record("a missing file was read")
        } catch {
            #expect(error.description == "\(directory)/missing: cannot read it")
        }
        #expect(throws: ClusterSettings.PasswordFileError.self) { try ClusterSettings.readPassword(path: directory) }
    }
}
