import Foundation
import TaplineCore

/// `scheduler:` in the configuration file.
struct SchedulerShape: Decodable {
    var catchUpWindowMinutes: Double?
    var startsPerSecond: Double?
    var maxRunningJobs: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case catchUpWindowMinutes = "catch_up_window_minutes"
        case startsPerSecond = "starts_per_second"
        case maxRunningJobs = "max_running_jobs"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        catchUpWindowMinutes = try c.decodeIfPresent(Double.self, forKey: .catchUpWindowMinutes)
        startsPerSecond = try c.decodeIfPresent(Double.self, forKey: .startsPerSecond)
        maxRunningJobs = try c.decodeIfPresent(Int.self, forKey: .maxRunningJobs)
    }

    func apply(to config: inout TaplineConfiguration) throws(ConfigurationError) {
        if let catchUpWindowMinutes {
            guard catchUpWindowMinutes >= 0, catchUpWindowMinutes.isFinite else {
                throw ConfigurationError("scheduler.catch_up_window_minutes: must be 0 or more")
            }
            config.scheduler.catchUpWindowSeconds = catchUpWindowMinutes * 60
        }
        if let startsPerSecond {
            guard startsPerSecond >= 1, startsPerSecond <= 1_000_000 else {
                throw ConfigurationError("scheduler.starts_per_second: must be between 1 and 1000000")
            }
            config.scheduler.startsPerSecond = startsPerSecond
        }
        if let maxRunningJobs {
            guard maxRunningJobs >= 1 else { throw ConfigurationError("scheduler.max_running_jobs: must be at least 1") }
            config.scheduler.maxRunningJobs = maxRunningJobs
        }
    }
}

/// `jobs:` in the configuration file.
struct JobsShape: Decodable {
    var stopGraceSeconds: Double?
    var shutdownGraceSeconds: Double?
    var directory: String?
    var workingDirectory: String?
    var maxLineBytes: Int?
    var maxLogBytes: Int?
    var historyDays: Double?
    var historyPerSource: Int?
    var logsPerSource: Int?
    var failuresBeforeSystemPause: Int?
    var timeoutSeconds: Double?
    var retries: Int?
    var retryBackoffSeconds: Double?
    var retryMaxBackoffSeconds: Double?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case stopGraceSeconds = "stop_grace_seconds"
        case shutdownGraceSeconds = "shutdown_grace_seconds"
        case directory
        case workingDirectory = "working_directory"
        case maxLineBytes = "max_line_bytes"
        case maxLogBytes = "max_log_bytes"
        case historyDays = "history_days"
        case historyPerSource = "history_per_source"
        case logsPerSource = "logs_per_source"
        case failuresBeforeSystemPause = "failures_before_system_pause"
        case timeoutSeconds = "timeout_seconds"
        case retries
        case retryBackoffSeconds = "retry_backoff_seconds"
        case retryMaxBackoffSeconds = "retry_max_backoff_seconds"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        retries = try c.decodeIfPresent(Int.self, forKey: .retries)
        retryBackoffSeconds = try c.decodeIfPresent(Double.self, forKey: .retryBackoffSeconds)
        retryMaxBackoffSeconds = try c.decodeIfPresent(Double.self, forKey: .retryMaxBackoffSeconds)
        stopGraceSeconds = try c.decodeIfPresent(Double.self, forKey: .stopGraceSeconds)
        shutdownGraceSeconds = try c.decodeIfPresent(Double.self, forKey: .shutdownGraceSeconds)
        directory = try c.decodeIfPresent(String.self, forKey: .directory)
        workingDirectory = try c.decodeIfPresent(String.self, forKey: .workingDirectory)
        maxLineBytes = try c.decodeIfPresent(Int.self, forKey: .maxLineBytes)
        maxLogBytes = try c.decodeIfPresent(Int.self, forKey: .maxLogBytes)
        historyDays = try c.decodeIfPresent(Double.self, forKey: .historyDays)
        historyPerSource = try c.decodeIfPresent(Int.self, forKey: .historyPerSource)
        logsPerSource = try c.decodeIfPresent(Int.self, forKey: .logsPerSource)
        failuresBeforeSystemPause = try c.decodeIfPresent(Int.self, forKey: .failuresBeforeSystemPause)
        timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds)
    }

    func apply(to config: inout TaplineConfiguration) throws(ConfigurationError) {
        if let stopGraceSeconds {
            guard (0...3600).contains(stopGraceSeconds) else {
                throw ConfigurationError("jobs.stop_grace_seconds: must be between 0 and 3600")
            }
            config.jobs.stopGraceSeconds = stopGraceSeconds
        }
        if let timeoutSeconds {
            guard (0...(30 * 86_400)).contains(timeoutSeconds) else {
                throw ConfigurationError("jobs.timeout_seconds: must be between 0 (no limit) and 2592000 (30 days)")
            }
            config.jobs.timeoutSeconds = timeoutSeconds
        }
        try applyRetry(to: &config.jobs.retry)
        if let shutdownGraceSeconds {
            guard (0...86_400).contains(shutdownGraceSeconds) else {
                throw ConfigurationError("jobs.shutdown_grace_seconds: must be between 0 and 86400")
            }
            config.shutdownGraceSeconds = shutdownGraceSeconds
        }
        if let directory {
            guard directory.hasPrefix("/") else { throw ConfigurationError("jobs.directory: must be an absolute path") }
            config.jobsDirectory = directory
        }
        if let workingDirectory {
            guard !workingDirectory.isEmpty else { throw ConfigurationError("jobs.working_directory: must not be empty") }
            config.workingDirectory = workingDirectory
        }
        if let maxLineBytes {
            guard (4096...(1 << 30)).contains(maxLineBytes) else {
                throw ConfigurationError("jobs.max_line_bytes: must be between 4096 and 1073741824")
            }
            config.jobs.relayLimits.maxLineBytes = maxLineBytes
        }
        if let historyDays {
            guard historyDays >= 0, historyDays <= 36_500 else {
                throw ConfigurationError("jobs.history_days: must be between 0 (keep all) and 36500")
            }
            config.retention.days = historyDays
        }
        if let historyPerSource {
            guard historyPerSource >= 0 else { throw ConfigurationError("jobs.history_per_source: must be 0 (keep all) or more") }
            config.retention.jobsPerSource = historyPerSource
        }
        if let maxLogBytes {
            guard (65536...(1 << 40)).contains(maxLogBytes) else {
                throw ConfigurationError("jobs.max_log_bytes: must be between 65536 and 1099511627776")
            }
            config.jobs.relayLimits.maxLogBytes = maxLogBytes
            config.jobs.relayLimits.tailBytes = min(config.jobs.relayLimits.tailBytes, maxLogBytes / 4)
        }
        if let logsPerSource {
            guard logsPerSource >= 0 else { throw ConfigurationError("jobs.logs_per_source: must be 0 (keep all) or more") }
            config.jobs.logsPerSource = logsPerSource
        }
        if let failuresBeforeSystemPause {
            guard failuresBeforeSystemPause >= 0 else {
                throw ConfigurationError("jobs.failures_before_system_pause: must be 0 (never) or more")
            }
            config.jobs.failuresBeforeSystemPause = failuresBeforeSystemPause
        }
    }
}

/// `api:` in the configuration file.
struct APIShape: Decodable {
    var maxBodyBytes: Int?
    var idleTimeoutSeconds: Double?
    var bodyTimeoutSeconds: Double?
    var maxConnections: Int?
    var maxHeaderBytes: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxBodyBytes = "max_body_bytes"
        case idleTimeoutSeconds = "idle_timeout_seconds"
        case bodyTimeoutSeconds = "body_timeout_seconds"
        case maxConnections = "max_connections"
        case maxHeaderBytes = "max_header_bytes"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes)
        idleTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .idleTimeoutSeconds)
        bodyTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .bodyTimeoutSeconds)
        maxConnections = try c.decodeIfPresent(Int.self, forKey: .maxConnections)
        maxHeaderBytes = try c.decodeIfPresent(Int.self, forKey: .maxHeaderBytes)
    }

    func apply(to limits: inout HTTPLimits) throws(ConfigurationError) {
        if let idleTimeoutSeconds {
            guard (1...86_400).contains(idleTimeoutSeconds) else {
                throw ConfigurationError("api.idle_timeout_seconds: must be between 1 and 86400")
            }
            limits.idleTimeoutSeconds = idleTimeoutSeconds
        }
        if let bodyTimeoutSeconds {
            guard (1...86_400).contains(bodyTimeoutSeconds) else {
                throw ConfigurationError("api.body_timeout_seconds: must be between 1 and 86400")
            }
            limits.bodyTimeoutSeconds = bodyTimeoutSeconds
        }
        if let maxConnections {
            guard (1...1_000_000).contains(maxConnections) else {
                throw ConfigurationError("api.max_connections: must be between 1 and 1000000")
            }
            limits.maxConnections = maxConnections
        }
        if let maxHeaderBytes {
            guard (1024...(1 << 20)).contains(maxHeaderBytes) else {
                throw ConfigurationError("api.max_header_bytes: must be between 1024 and 1048576")
            }
            limits.maxHeaderBytes = maxHeaderBytes
        }
    }
}

extension JobsShape {
    /// `jobs.retries` and its backoff; the maximum may not be below the first wait.
    func applyRetry(to retry: inout RetryPolicy) throws(ConfigurationError) {
        if let retries {
            guard (0...20).contains(retries) else { throw ConfigurationError("jobs.retries: must be between 0 (no retries) and 20") }
            retry.retries = retries
        }
        if let retryBackoffSeconds {
            guard (1...86_400).contains(retryBackoffSeconds) else {
                throw ConfigurationError("jobs.retry_backoff_seconds: must be between 1 and 86400")
            }
            retry.initialDelay = retryBackoffSeconds
        }
        if let retryMaxBackoffSeconds {
            guard (1...(7 * 86_400)).contains(retryMaxBackoffSeconds) else {
                throw ConfigurationError("jobs.retry_max_backoff_seconds: must be between 1 and 604800")
            }
            retry.maxDelay = retryMaxBackoffSeconds
        }
        guard retry.maxDelay >= retry.initialDelay else {
            throw ConfigurationError(
                "jobs.retry_max_backoff_seconds: must not be below jobs.retry_backoff_seconds (\(Int(retry.initialDelay)))")
        }
    }
}
