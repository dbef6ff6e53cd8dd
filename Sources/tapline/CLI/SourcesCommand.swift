import ArgumentParser
import Foundation

/// `tapline sources …`: the sources API from the command line.
struct SourcesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sources", abstract: "List, create, change, pause and delete sources through the API.",
        subcommands: [List.self, Get.self, Create.self, Update.self, Pause.self, Unpause.self, Delete.self])

    static func row(_ source: [String: Any]) -> [String] {
        let status =
            source["deleted_at"] is String
            ? "deleted"
            : source["paused_at"] is String
                ? "paused"
                : source["system_paused_at"] is String ? "system paused" : "active"
        let next = (source["schedule"] as? [String: Any])?["next_fire_time"] as? String ?? "-"
        return ["\(source["id"] ?? "")", source["name"] as? String ?? "", source["type"] as? String ?? "", status, next]
    }

    static func show(_ reply: APIClient.Reply, json: Bool) {
        if json { return printJSON(reply) }
        let sources = (reply.json as? [[String: Any]]) ?? [(reply.json as? [String: Any]) ?? [:]]
        printTable(["ID", "NAME", "TYPE", "STATUS", "NEXT FIRE"], sources.map(row))
    }

    /// `key=value` pairs (a value `null` removes the property on update).
    static func properties(_ pairs: [String]) throws -> [String: Any] {
        var result: [String: Any] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw CLIError("--property expects KEY=VALUE, got \(pair)", code: 2)
            }
            let value = String(pair[pair.index(after: equals)...])
            result[String(pair[..<equals])] = value == "null" ? NSNull() : value
        }
        return result
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every source (paused and deleted included).")
        @OptionGroup var options: ClientOptions
        func run() async throws {
            try await runCLI { SourcesCommand.show(try await options.client().call("GET", "/v4/sources"), json: options.json) }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one source.")
        @OptionGroup var options: ClientOptions
        @Argument var id: Int
        func run() async throws {
            try await runCLI { SourcesCommand.show(try await options.client().call("GET", "/v4/sources/\(id)"), json: options.json) }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a source.")
        @OptionGroup var options: ClientOptions
        @Option(help: "The source type, e.g. platform.demo.") var type: String
        @Option(name: .customLong("display-name"), help: "The display name.") var displayName: String
        @Option(name: .customLong("property"), help: "A property, KEY=VALUE (repeatable).") var properties: [String] = []
        func run() async throws {
            try await runCLI {
                let body: [String: Any] = [
                    "type": type, "display_name": displayName, "properties": try SourcesCommand.properties(properties),
                ]
                SourcesCommand.show(try await options.client().call("POST", "/v4/sources", body: body), json: options.json)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a source's display name or properties (merged).")
        @OptionGroup var options: ClientOptions
        @Argument var id: Int
        @Option(name: .customLong("display-name")) var displayName: String?
        @Option(name: .customLong("property"), help: "KEY=VALUE; KEY=null removes it (repeatable).") var properties: [String] = []
        func run() async throws {
            try await runCLI {
                var body: [String: Any] = [:]
                if let displayName { body["display_name"] = displayName }
                if !properties.isEmpty { body["properties"] = try SourcesCommand.properties(properties) }
                SourcesCommand.show(try await options.client().call("PUT", "/v4/sources/\(id)", body: body), json: options.json)
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause a source now (no scheduled job starts once this returns).")
        @OptionGroup var options: ClientOptions
        @Argument var id: Int
        @Option(help: "The instant shown as paused_at (default: now).") var at: String?
        func run() async throws {
            try await runCLI {
                let instant = at ?? ISO8601DateFormatter().string(from: Date())
                SourcesCommand.show(
                    try await options.client().call("PUT", "/v4/sources/\(id)", body: ["paused_at": instant]), json: options.json)
            }
        }
    }

    struct Unpause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Unpause a source.")
        @OptionGroup var options: ClientOptions
        @Argument var id: Int
        func run() async throws {
            try await runCLI {
                SourcesCommand.show(
                    try await options.client().call("PUT", "/v4/sources/\(id)", body: ["paused_at": NSNull()]), json: options.json)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a source (it stays readable).")
        @OptionGroup var options: ClientOptions
        @Argument var id: Int
        func run() async throws {
            try await runCLI { SourcesCommand.show(try await options.client().call("DELETE", "/v4/sources/\(id)"), json: options.json) }
        }
    }
}
