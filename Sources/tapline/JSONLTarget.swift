import ArgumentParser
import Foundation

/// `tapline jsonl-target`: a small Singer target writing one JSON Lines file per stream.
///
/// RECORDs are appended to `<destination_path>/<stream>.jsonl`; each STATE is echoed to stdout
/// once the records before it are written, which is what the Singer spec asks of a target.
struct JSONLTarget: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jsonl-target", abstract: "A built-in Singer target writing one JSONL file per stream.")

    @Option(help: "Target configuration (JSON): destination_path.")
    var config: String

    func run() throws {
        try DemoFailure.reporting("jsonl-target") { try load() }
    }

    private func load() throws {
        let settings = try DemoTap.readObject(config)
        guard let destination = settings["destination_path"] as? String, !destination.isEmpty else {
            throw DemoFailure("\(config): destination_path is missing")
        }
        do {
            try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
        } catch {
            throw DemoFailure("\(destination): cannot create the directory (\(String(cString: strerror(errno))))")
        }
        var files: [String: FileHandle] = [:]
        defer { files.values.forEach { try? $0.close() } }
        var lineNumber = 0
        while let line = readLine(strippingNewline: true) {
            lineNumber += 1
            if line.isEmpty { continue }
            guard let message = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let type = message["type"] as? String
            else {
                throw Self.fail("line \(lineNumber) is not a Singer message")
            }
            switch type {
            case "SCHEMA":
                guard let stream = message["stream"] as? String, Self.isSafe(stream) else {
                    throw Self.fail("line \(lineNumber): SCHEMA without a usable stream name")
                }
                if files[stream] == nil {
                    let path = destination + "/" + stream + ".jsonl"
                    if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
                    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                    try handle.seekToEnd()
                    files[stream] = handle
                }
            case "RECORD":
                guard let stream = message["stream"] as? String, let handle = files[stream], let record = message["record"] else {
                    throw Self.fail("line \(lineNumber): RECORD for a stream without a SCHEMA")
                }
                let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
                try handle.write(contentsOf: data + Data("\n".utf8))
            case "STATE":
                for handle in files.values { try handle.synchronize() }
                if let value = message["value"] {
                    let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
                    FileHandle.standardOutput.write(data + Data("\n".utf8))
                }
            default:
                continue  // ACTIVATE_VERSION and future message types are ignored
            }
        }
    }

    static func isSafe(_ stream: String) -> Bool {
        !stream.isEmpty && !stream.contains("/") && stream != "." && stream != ".."
    }

    static func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("CRITICAL jsonl-target: \(message)\n".utf8))
        return ExitCode(1)
    }
}
