import ArgumentParser
import Foundation

/// `tapline demo-tap`: a small Singer tap, so a fresh install runs real jobs.
///
/// For each configured stream it emits a SCHEMA, `record_count` RECORDs with increasing ids
/// starting after the bookmark in `--state`, and STATE messages carrying the new bookmark, so
/// a second job resumes where the first stopped. `record_delay_ms` makes a job last;
/// `fail: "true"` makes it exit 1 after its records.
struct DemoTap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-tap", abstract: "A built-in Singer tap emitting demo records (platform.demo).")

    @Option(help: "Tap configuration (JSON): record_count, record_delay_ms, fail, streams.")
    var config: String

    @Option(help: "Singer state (JSON) from the previous job.")
    var state: String?

    @Option(help: "Singer catalog (JSON): only streams selected in it are emitted.")
    var catalog: String?

    @Flag(help: "Print the catalog and exit.")
    var discover = false

    @Flag(help: "Check the configuration (the connection check of platform.demo) and exit.")
    var check = false

    func run() throws {
        try DemoFailure.reporting("demo-tap") { try replicate() }
    }

    private func replicate() throws {
        let settings = try Self.readObject(config)
        let count = Int(settings["record_count"] as? String ?? "10") ?? 10
        let delay = Int(settings["record_delay_ms"] as? String ?? "0") ?? 0
        let fail = (settings["fail"] as? String) == "true"
        var streams = (settings["streams"] as? String ?? "users").split(separator: ",").map(String.init)
        if check {
            // What a job would trip over: unreadable numbers, and a source set to fail.
            guard Int(settings["record_count"] as? String ?? "10") != nil, Int(settings["record_delay_ms"] as? String ?? "0") != nil
            else { throw DemoFailure("record_count and record_delay_ms must be whole numbers") }
            if fail { throw DemoFailure("the source is set to fail (fail=true): its jobs would fail") }
            FileHandle.standardError.write(Data("INFO demo-tap: check passed for streams \(streams.joined(separator: ","))\n".utf8))
            return
        }
        if discover {
            let catalog: [String: Any] = [
                "streams": streams.map { ["stream": $0, "tap_stream_id": $0, "schema": Self.schema, "metadata": Self.metadata] }
            ]
            try Self.emit(catalog)
            return
        }
        if let catalog {
            streams = try Self.selectedStreams(in: catalog)
        }
        var bookmarks: [String: Int] = [:]
        if let state, let value = try? Self.readObject(state), let marks = value["bookmarks"] as? [String: Any] {
            for (stream, mark) in marks { bookmarks[stream] = (mark as? [String: Any])?["id"] as? Int }
        }
        let extracted = ISO8601DateFormatter().string(from: Date())
        for stream in streams {
            try Self.emit([
                "type": "SCHEMA", "stream": stream, "schema": Self.schema, "key_properties": ["id"], "bookmark_properties": ["id"],
            ])
            let start = (bookmarks[stream] ?? 0) + 1
            for id in start..<(start + max(0, count)) {
                try Self.emit([
                    "type": "RECORD", "stream": stream, "time_extracted": extracted,
                    "record": ["id": id, "name": "\(stream)-\(id)", "updated_at": extracted],
                ])
                bookmarks[stream] = id
                if id % 100 == 0 || id == start + count - 1 {
                    try Self.emit(["type": "STATE", "value": ["bookmarks": bookmarks.mapValues { ["id": $0] }]])
                }
                if delay > 0 { usleep(useconds_t(delay) * 1000) }
            }
        }
        if fail {
            FileHandle.standardError.write(Data("CRITICAL demo-tap: failing on purpose (fail=true)\n".utf8))
            throw ExitCode(1)
        }
    }

    static var schema: [String: Any] {
        [
            "type": "object",
            "properties": [
                "id": ["type": "integer"], "name": ["type": "string"],
                "updated_at": ["type": "string", "format": "date-time"],
            ],
        ]
    }

    /// Singer metadata for a discovered stream: key properties and each field's inclusion.
    static var metadata: [[String: Any]] {
        [
            [
                "breadcrumb": [String](),
                "metadata": [
                    "inclusion": "available", "table-key-properties": ["id"],
                    "forced-replication-method": "INCREMENTAL", "valid-replication-keys": ["id"],
                ],
            ],
            ["breadcrumb": ["properties", "id"], "metadata": ["inclusion": "automatic"]],
            ["breadcrumb": ["properties", "name"], "metadata": ["inclusion": "available"]],
            ["breadcrumb": ["properties", "updated_at"], "metadata": ["inclusion": "available"]],
        ]
    }

    /// The streams whose metadata at the empty breadcrumb says `selected: true`.
    static func selectedStreams(in path: String) throws -> [String] {
        let catalog = try readObject(path)
        let entries = catalog["streams"] as? [[String: Any]] ?? []
        return entries.compactMap { entry in
            let own = (entry["metadata"] as? [[String: Any]] ?? []).first { ($0["breadcrumb"] as? [String])?.isEmpty == true }
            guard (own?["metadata"] as? [String: Any])?["selected"] as? Bool == true else { return nil }
            return entry["tap_stream_id"] as? String ?? entry["stream"] as? String
        }
    }

    static func readObject(_ path: String) throws -> [String: Any] {
        let data = try DemoFailure.read(path)
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw DemoFailure("\(path): not a JSON object")
        }
        return object
    }

    static func emit(_ message: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: message, options: [.sortedKeys])
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
