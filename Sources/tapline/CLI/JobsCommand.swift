import ArgumentParser
import Foundation

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
        static let configuration = CommandConfiguration(abstract: "A source's jobs, newest first.")
        @OptionGroup var options: ClientOptions
        @Argument var sourceID: Int
        @Option var page = 1
        func run() async throws {
            try await runCLI {
                let reply = try await options.client().call("GET", "/v4/sources/\(sourceID)/jobs?page=\(page)")
                if options.json { return printJSON(reply) }
                let jobs = (reply.json as? [String: Any])?["data"] as? [[String: Any]] ?? []
                func text(_ value: Any?) -> String { value.map { $0 is NSNull ? "-" : "\($0)" } ?? "-" }
                printTable(
                    ["JOB", "TRIGGER", "STATUS", "STARTED", "COMPLETED", "TAP", "TARGET"],
                    jobs.map {
                        [text($0["job_name"]), text($0["trigger"]), text($0["status"]), text($0["started_at"]),
                         text($0["completed_at"]), text($0["tap_exit_status"]), text($0["target_exit_status"])]
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
