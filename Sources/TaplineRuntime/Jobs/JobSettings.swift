import Foundation
import TaplineCore

/// How jobs run: where their files go, the destination's target, and the stop grace period.
public struct JobSettings: Sendable {
    /// The state directory: jobs get `jobs/<job_name>/` (removed afterwards) and
    /// `logs/<source_id>/<job_name>.log` (kept).
    public var stateDirectory: String
    /// Stop grace, log retention, the system-pause threshold, the relay's limits.
    public var policy: JobPolicy
    /// The configured destination types: a job loads into the account's live destination,
    /// through its type's target (`tapline` as the first argument runs this binary).
    public var destinationTypes: DestinationTypeCatalog
    /// The account id in job names.
    public var stitchClientID: Int64
    /// Where private job directories (configuration with credentials, state, catalog) are made;
    /// `nil` means `<state_dir>/jobs`. Best on a tmpfs (`/run/tapline` via systemd's
    /// `RuntimeDirectory=`): credentials never reach a disk, and creating and removing thousands
    /// of directories costs far less than on a journaling file system.
    public var jobsDirectoryOverride: String?
    /// The current directory of every tap and target; `nil` means `<state_dir>/work`. Unlike a
    /// job's private directory it is never removed: whatever a target writes to a relative path
    /// stays there.
    public var workingDirectory: String?

    /// The settings a configuration gives (by default the embedded defaults) for a resolved
    /// state directory. The daemon goes through `TaplineConfiguration.jobSettings`, which also
    /// resolves the jobs directory from systemd's environment.
    public init(stateDirectory: String, configuration: TaplineConfiguration = TaplineConfiguration()) {
        self.stateDirectory = stateDirectory
        self.policy = configuration.jobs
        self.destinationTypes = DestinationTypeCatalog(configuration.destinationTypes)
        self.stitchClientID = configuration.stitchClientID
        self.workingDirectory = configuration.workingDirectory
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
