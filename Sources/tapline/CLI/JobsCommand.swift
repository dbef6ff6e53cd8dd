import ArgumentParser
import Foundation
import TaplineCore

/// `tapline jobs …`: start, stop, list and read the logs of replication jobs.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "Start, stop and inspect replication jobs through the API.",
        subcommands: [Start.self, Stop.self, List.self, Logs.self])

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a manual job (also while the source is paused).")
        @OptionGroup var options: ClientOptions
        @Argument var sourceID: Int
        func run() async throws {
            try await runCLI {
                let reply = try await options.client().call("POST", "/v4/sources/\(sourceID)/sync")
                if options.json { return printJSON(reply) }
                print((reply.json as? [String: Any])?["job_name"] as? String ?? reply.text)
            }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the source's running job.")
        @OptionGroup var options: ClientOptions
        @Argument var sourceID: Int
        func run() async throws {
            try await runCLI {
                let reply = try await options.client().call("DELETE", "/v4/sources/\(sourceID)/sync")
                if options.json { printJSON(reply) } else { print("stop requested") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A source's jobs, newest first.",
            discussion: "tapline jobs list 1 --status failed --since 1d: the failed jobs of source 1 that started in the last day.")
        @OptionGroup var options: ClientOptions
        @Argument var sourceID: Int
        @Option var page = 1
        @Option(help: "Only jobs with this status (running, succeeded, failed, stopped, interrupted); a comma-separated list for several.")
        var status: String?
        @Option(help: "Only scheduled or manual jobs.")
        var trigger: String?
        @Option(help: "Only jobs started at or after this: an ISO 8601 instant or a span back from now (90s, 30m, 12h, 1d, 2w).")
        var since: String?
        @Option(help: "Only jobs started before this (same forms as --since).")
        var until: String?

        func validate() throws {
            for (name, value) in [("--since", since), ("--until", until)] {
                if let value, RelativeTime.parse(value) == nil {
                    throw ValidationError("\(name): expected an ISO 8601 instant or a span such as 1d, 12h, 30m, got \"\(value)\"")
                }
            }
        }

        /// The listing's query; the API checks the values and answers a clear 400 for a bad one.
        var query: String {
            var items = [URLQueryItem(name: "page", value: String(page))]
            if let status { items.append(URLQueryItem(name: "status", value: status)) }
            if let trigger { items.append(URLQueryItem(name: "trigger", value: trigger)) }
            for (name, value) in [("since", since), ("until", until)] {
                if let value, let date = RelativeTime.parse(value) {
                    items.append(URLQueryItem(name: name, value: Timestamp.formatMilliseconds(date)))
                }
            }
            var components = URLComponents()
            components.queryItems = items
            return components.percentEncodedQuery ?? ""
        }

        func run() async throws {
            try await runCLI {
                let reply = try await options.client().call("GET", "/v4/sources/\(sourceID)/jobs?\(query)")
                if options.json { return printJSON(reply) }
                let jobs = (reply.json as? [String: Any])?["data"] as? [[String: Any]] ?? []
                func text(_ value: Any?) -> String { value.map { $0 is NSNull ? "-" : "\($0)" } ?? "-" }
                printTable(
                    ["JOB", "TRIGGER", "STATUS", "STARTED", "COMPLETED", "TAP", "TARGET"],
                    jobs.map {
                        [
                            text($0["job_name"]), text($0["trigger"]), text($0["status"]), text($0["started_at"]),
                            text($0["completed_at"]), text($0["tap_exit_status"]), text($0["target_exit_status"]),
                        ]
                    })
            }
        }
    }

    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a job's log.")
        @OptionGroup var options: ClientOptions
        @Argument var jobName: String
        func run() async throws {
            try await runCLI {
                let client = try options.client()
                let parts = jobName.split(separator: ".")
                guard parts.count == 4 else { throw CLIError("not a job name: \(jobName)", code: 2) }
                let reply = try await client.call("GET", "/v4/\(parts[0])/extractions/\(jobName)")
                print(reply.text, terminator: reply.text.hasSuffix("\n") ? "" : "\n")
            }
        }
    }
}
