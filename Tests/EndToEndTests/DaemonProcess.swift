import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The built `tapline` binary, run as a child process the way an operator or systemd runs it.
final class DaemonProcess: @unchecked Sendable {
    let stateDirectory: String
    let process = Process()
    let stderrFile: String

    /// The `tapline` executable next to the test bundle in the build directory.
    static var binary: String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("tapline").path), dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("tapline").path
    }

    /// `tapline serve ARGUMENTS` exactly, started in `currentDirectory`; its state is the
    /// default `./.tapline` there unless the arguments or environment say otherwise.
    init(exactArguments: [String], currentDirectory: String, environment: [String: String] = [:]) throws {
        stateDirectory = currentDirectory + "/.tapline"
        stderrFile = currentDirectory + ".stderr"
        FileManager.default.createFile(atPath: stderrFile, contents: nil)
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = exactArguments
        process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory)
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrFile))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    init(stateDirectory: String, arguments: [String] = [], environment: [String: String] = [:]) throws {
        self.stateDirectory = stateDirectory
        // A previous daemon killed with SIGKILL left its address behind; wait for the new one.
        try? FileManager.default.removeItem(atPath: stateDirectory + "/http.address")
        stderrFile = stateDirectory + ".stderr"
        FileManager.default.createFile(atPath: stderrFile, contents: nil)
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", "--state-dir", stateDirectory, "--listen", "127.0.0.1:0"] + arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrFile))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    var stderr: String { (try? String(contentsOfFile: stderrFile, encoding: .utf8)) ?? "" }

    /// Runs `tapline ARGUMENTS` (the CLI) to completion: exit status, stdout, stderr.
    static func cli(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// The first column of the first row of `sql` on the database file, as an operator reading it
    /// with `sqlite3` would see it (through Python's sqlite3 module, present wherever CI runs).
    static func sqlite(_ path: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])", path, sql,
        ]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Waits for the daemon to write its listening address.
    func address(timeout: TimeInterval = 20) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: stateDirectory + "/http.address", encoding: .utf8),
                text.hasSuffix("\n")
            {
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard process.isRunning else { throw Failure("daemon exited early: \(stderr)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure("daemon did not start listening: \(stderr)")
    }

    /// Waits for the process to exit and returns its status.
    func exitStatus(timeout: TimeInterval = 20) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            guard Date() < deadline else {
                process.interrupt()
                throw Failure("daemon did not exit")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: stderrFile)
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
