import ArgumentParser
import TaplineRuntime

/// `tapline job-guard`: the process a node of a cluster starts beside itself to end its jobs
/// when it is frozen past its fence point (`JobGuard`). Not for people to run.
struct JobGuardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job-guard", abstract: "Ends a cluster node's jobs when the node stops renewing its fence (internal).",
        shouldDisplay: false)

    @Option(help: "The TAPLINE_GUARD value of the node's job processes.")
    var token: String

    @Option(help: "Seconds between SIGTERM and SIGKILL.")
    var grace: Double

    func run() throws {
        let status = JobGuardWatch.run(token: token, grace: grace)
        throw ExitCode(status)
    }
}
