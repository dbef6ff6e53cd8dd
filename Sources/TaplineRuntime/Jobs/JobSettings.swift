import Foundation
import TaplineCore

/// How jobs run: where their files go, the destination's target, and the stop grace period.
public struct JobSettings: Sendable {
    /// The state directory: jobs get `jobs/<job_name>/` (removed afterwards) and
    /// `logs/<source_id>/<job_name>.log` (kept).
    public var stateDirectory: String
    /// SIGTERM first; SIGKILL to the job's process group after this many seconds.
    public var stopGraceSeconds: Double = 10
    /// The destination's Singer target, as an argument vector (`tapline` runs this binary).
    public var target: [String] = ["tapline", "jsonl-target"]
    /// The target's configuration (written to `target-config.json`), typed as in the YAML file.
    /// `${STATE_DIRECTORY}` in a string value is replaced by the (absolute) state directory.
    public var targetConfig: [String: JSONValue] = ["destination_path": .string("${STATE_DIRECTORY}/output")]
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
    /// `<state_dir>/logs`: one directory per source below it.
    var logsDirectory: String { stateDirectory + "/logs" }
    func logDirectory(sourceID: Int64) -> String { logsDirectory + "/\(sourceID)" }

    var resolvedTargetConfig: [String: JSONValue] {
        targetConfig.mapValues { $0.mapStrings { $0.replacingOccurrences(of: "${STATE_DIRECTORY}", with: stateDirectory) } }
    }

    /// `target-config.json`: the resolved configuration as JSON with sorted keys.
    func targetConfigurationFile() throws -> Data {
        try JSONSerialization.data(withJSONObject: JSONValue.object(resolvedTargetConfig).foundationObject, options: [.sortedKeys])
    }
}
