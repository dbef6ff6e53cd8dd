import Foundation
import Logging
import TaplineCore
import TaplineStoreContract

/// Limits on HTTP clients. Defaults are generous for scripts and dashboards and small enough
/// that idle, slow or oversized clients cannot take the daemon's file descriptors or memory.
public struct HTTPLimits: Sendable, Equatable {
    /// A connection with no request in progress is closed after this long. It also bounds a
    /// request whose header arrives byte by byte (slow-loris): its header is incomplete, so the
    /// connection still counts as idle.
    public var idleTimeoutSeconds: Double = 60
    /// A request body must have arrived completely within this long (408 otherwise).
    public var bodyTimeoutSeconds: Double = 30
    /// Connections served at once; further clients wait in the listen backlog.
    public var maxConnections = 1024
    /// The largest request header block (all fields together), in bytes; larger: an empty 400, then the connection is closed.
    public var maxHeaderBytes = 16 * 1024
    public init() {}
}

/// Everything tapline can be configured with, after defaults, the file, the environment and the
/// command-line flags have been applied (in that order, later ones winning).
public struct TaplineConfiguration: Sendable {
    /// Where the HTTP API listens. Loopback by default: the API controls what runs on this host.
    public var listen = ListenAddress(host: "127.0.0.1", port: 8080)
    /// The state directory: database, token file, job logs. `nil` means the default
    /// (`$STATE_DIRECTORY` under systemd, else `./.tapline`).
    public var stateDirectory: String?
    /// The SQLite database; `nil` means `<state_dir>/tapline.db`.
    public var database: String?
    /// The shared PostgreSQL store of a cluster and this node's part in it (`store:`, `node:`);
    /// `nil`: the embedded SQLite store (`database`).
    public var cluster: ClusterSettings?
    /// The API token file; `nil` means `<state_dir>/token` (generated on first start), or the
    /// systemd credential `token` when `$CREDENTIALS_DIRECTORY` provides one.
    public var tokenFile: String?
    /// The key that seals credentials at rest; `nil`: the systemd credential `credentials-key`,
    /// else `<state_dir>/credentials.key` (generated).
    public var credentialsKeyFile: String?
    /// The account id shown as `stitch_client_id`.
    public var stitchClientID: Int64 = 1
    /// The largest request body the API accepts, in bytes.
    public var maxBodyBytes = 1 << 20
    /// Limits that keep one misbehaving HTTP client from starving the others.
    public var http = HTTPLimits()
    public var logLevel: Logger.Level = .info
    /// The source types API callers can create sources of.
    public var sourceTypes: [SourceType] = [DemoSourceType.definition]
    /// The scheduler's limits (catch-up window, start budget, running cap).
    public var scheduler = SchedulerSettings()
    /// How jobs behave (`jobs:`): stop grace, log retention, system pause, the relay's limits.
    public var jobs = JobPolicy()
    /// How long running jobs may go on after tapline is asked to stop, in seconds.
    public var shutdownGraceSeconds: Double = 30
    /// The destination types API callers may create the account's destination of.
    public var destinationTypes: [DestinationType] = [BuiltInDestinationType.jsonl]
    /// The destination a fresh install starts with (created once, at the first start).
    public var initialDestination: InitialDestination? = InitialDestination(type: BuiltInDestinationType.jsonl.type)
    /// Webhooks and how they are delivered (`notifications:`).
    public var notifications = NotificationSettings()
    /// How `pip:` plugins are installed (`plugins:`).
    public var pluginSettings = PluginSettings()
    /// How much job history is kept (`jobs.history_days`, `jobs.history_per_source`).
    public var retention = RetentionPolicy()
    /// Where job directories go; `nil`: `$RUNTIME_DIRECTORY/jobs` under systemd, else
    /// `<state_dir>/jobs`.
    public var jobsDirectory: String?
    /// The directory taps and targets run in (their current directory); `nil`: `<state_dir>/work`.
    /// It outlives every job: a target told to write to a relative path writes below it, and
    /// tapline never deletes anything there.
    public var workingDirectory: String?

    /// The job settings for a resolved state directory.
    public func jobSettings(
        stateDirectory: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> JobSettings {
        var settings = JobSettings(stateDirectory: stateDirectory, configuration: self)
        settings.jobsDirectoryOverride = resolvedJobsDirectory(stateDirectory: stateDirectory, environment: environment)
        settings.workingDirectory = workingDirectory ?? stateDirectory + "/work"
        return settings
    }

    public init() {}

    /// The state directory after defaults, as an absolute path: `$STATE_DIRECTORY` (its first
    /// entry) when systemd set it, else `./.tapline` in the current directory.
    public func resolvedStateDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let stateDirectory { return Self.absolute(stateDirectory) }
        if let systemd = environment["STATE_DIRECTORY"]?.split(separator: ":").first, !systemd.isEmpty {
            return Self.absolute(String(systemd))
        }
        return Self.absolute(".tapline")
    }

    public func resolvedDatabase(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        database.map { Self.absolute($0) }
            ?? (resolvedStateDirectory(environment: environment) as NSString).appendingPathComponent("tapline.db")
    }

    /// Job directories: the configured one, else `$RUNTIME_DIRECTORY/jobs` under systemd, else
    /// `nil` (`<state_dir>/jobs`).
    func resolvedJobsDirectory(stateDirectory: String, environment: [String: String]) -> String? {
        if let jobsDirectory { return Self.absolute(jobsDirectory) }
        if let runtime = environment["RUNTIME_DIRECTORY"]?.split(separator: ":").first, !runtime.isEmpty {
            return Self.absolute(String(runtime)) + "/jobs"
        }
        return nil
    }

    public var catalog: SourceTypeCatalog { SourceTypeCatalog(sourceTypes) }
    public var destinationCatalog: DestinationTypeCatalog { DestinationTypeCatalog(destinationTypes) }
}

/// The destination a fresh install starts with: a type and its properties (wire strings).
public struct InitialDestination: Sendable, Equatable {
    public var type: String
    public var properties: [String: String]
    public init(type: String, properties: [String: String] = [:]) {
        self.type = type
        self.properties = properties
    }
}

/// A `host:port` pair. Port 0 asks the kernel for a free port (tests run several daemons).
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` (`[::1]:8080` for IPv6).
    /// `HOST:PORT` from the configuration file, `--listen` or `TAPLINE_LISTEN`; the error
    /// names where the text came from.
    public static func parse(_ text: String, origin: String) throws(ConfigurationError) -> ListenAddress {
        guard let address = ListenAddress(parsing: text) else {
            throw ConfigurationError("\(origin): expected HOST:PORT, got \"\(text)\"")
        }
        return address
    }

    public init?(parsing text: String) {
        var hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            guard !hostPart.contains(":") else { return nil }
        }
        hostPart = hostPart.isEmpty ? "127.0.0.1" : hostPart
        guard let port = Int(portPart), (0...65535).contains(port), !portPart.isEmpty else { return nil }
        self.init(host: String(hostPart), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// How taps and targets named by a Python package (`pip:`) are installed (`plugins:`).
public struct PluginSettings: Sendable, Equatable {
    /// The interpreter that makes each plugin's virtual environment (`python -m venv`).
    public var python = "python3"
    /// Options given to every `pip install`, before the requirement: an index mirror, or
    /// `--no-index --find-links DIR` for a machine without network. pip's own configuration
    /// (`pip.conf`, `PIP_*` variables) applies as well.
    public var pipArguments: [String] = []
    /// How long one install may take before it is stopped and fails.
    public var installTimeoutSeconds: Double = 1800
    public init() {}
}
