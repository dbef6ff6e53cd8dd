import Foundation
import TaplineCore

/// How jobs run: where their files go, the destination's target, and the stop grace period.
public struct JobSettings: Sendable {
    /// The state directory: jobs get `jobs/<job_name>/` (removed afterwards) and
    /// `logs/<source_id>/<job_name>.log` (kept).
    public var stateDirectory: String
    /// SIGTERM first; SIGKILL to the job's process group after this many seconds.
    public var stopGraceSeconds: Double = 10
    /// The configured destination types: a job loads into the account's live destination,
    /// through its type's target (`tapline` as the first argument runs this binary).
    public var destinationTypes = DestinationTypeCatalog([BuiltInDestinationType.jsonl])
    /// How many job logs to keep per source (older ones are deleted as new jobs end); 0 keeps all.
    public var logsPerSource: Int = 100
    /// Consecutive failed scheduled jobs after which a source is system-paused; 0 disables.
    public var failuresBeforeSystemPause: Int = 5
    /// The account id in job names.
    public var stitchClientID: Int64 = 1
    /// Where private job directories (configuration with credentials, state, catalog) are made;
    /// `nil` means `<state_dir>/jobs`. Best on a tmpfs (`/run/tapline` via systemd's
    /// `RuntimeDirectory=`): credentials never reach a disk, and creating and removing thousands
    /// of directories costs far less than on a journaling file system.
    public var jobsDirectoryOverride: String?
    /// The current directory of every tap and target; `nil` means `<state_dir>/work`. Unlike a
    /// job's private directory it is never removed: whatever a target writes to a relative path
    /// stays there.
    public var workingDirectory: String?
    /// The longest tap line and the largest job log (`jobs.max_line_bytes`, `jobs.max_log_bytes`).
    public var relayLimits = RelayLimits()

    public init(stateDirectory: String) {
        self.stateDirectory = stateDirectory
    }

    var jobsDirectory: String { jobsDirectoryOverride ?? stateDirectory + "/jobs" }
    var processDirectory: String { workingDirectory ?? stateDirectory + "/work" }
    /// The private workspace of one job or connection check, named after it.
    func workspace(named name: String) -> String { jobsDirectory + "/" + name }
    /// `<state_dir>/logs`: one directory per source below it.
    var logsDirectory: String { stateDirectory + "/logs" }
    func logDirectory(sourceID: Int64) -> String { logsDirectory + "/\(sourceID)" }

    /// The target's configuration for a destination: its type's settings and its own values,
    /// typed, with `${STATE_DIRECTORY}` in strings replaced by the (absolute) state directory.
    func targetConfig(type: DestinationType, properties: [String: String] = [:], credentials: [String: String] = [:])
        -> [String: JSONValue]
    {
        type.targetConfiguration(properties: properties, credentials: credentials)
            .mapValues { $0.mapStrings { $0.replacingOccurrences(of: "${STATE_DIRECTORY}", with: stateDirectory) } }
    }

    /// `target-config.json`: that configuration as JSON with sorted keys.
    func targetConfigurationFile(_ config: [String: JSONValue]) throws -> Data {
        try JSONSerialization.data(withJSONObject: JSONValue.object(config).foundationObject, options: [.sortedKeys])
    }
}
