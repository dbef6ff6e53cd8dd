import Foundation
import TaplineCore

/// What started a job.
public enum JobTrigger: String, Sendable {
    case scheduled, manual
}

/// Where a job is in its life. Only `running` jobs have no `completed_at`.
public enum JobStatus: String, Sendable {
    case running, succeeded, failed, stopped
    /// tapline stopped (or crashed) before the job ended; found by the boot sweep.
    case interrupted
}

/// A replication job as stored, in the shape of Stitch's extraction object.
public struct JobRecord: Sendable, Equatable {
    public var id: Int64
    public var jobName: String
    public var sourceID: Int64
    public var trigger: JobTrigger
    public var scheduledFor: Date?
    /// 1 for an occurrence's first job; 2, 3, … for its retries (`jobs.retries`).
    public var attempt: Int
    public var status: JobStatus
    public var startedAt: Date
    public var completedAt: Date?
    public var discoveryExitStatus: Int?
    public var discoveryDescription: String?
    public var tapExitStatus: Int?
    public var tapDescription: String?
    public var targetExitStatus: Int?
    public var targetDescription: String?
    public var processGroup: Int32?
    /// When the job's processes were spawned (`started_at` is when its row was committed, just
    /// before); the difference to `scheduled_for` is the scheduler's start lateness.
    public var spawnedAt: Date?
    public var logPath: String?
    /// RECORD messages relayed, per stream.
    public var streamRecords: [String: Int]?
}

/// How a job ended, as the runner reports it.
public struct JobOutcome: Sendable, Equatable {
    public var status: JobStatus
    public var completedAt: Date
    public var discoveryExitStatus: Int?
    public var discoveryDescription: String?
    public var tapExitStatus: Int?
    public var tapDescription: String?
    public var targetExitStatus: Int?
    public var targetDescription: String?
    /// RECORDs relayed per stream.
    public var streamRecords: [String: Int] = [:]
    /// RECORDs per stream that the target proved it loaded; only these streams get a load.
    public var loadedRecords: [String: Int] = [:]
    /// The last STATE the target confirmed, as JSON text; persisted for the next job.
    public var confirmedState: String?

    public init(
        status: JobStatus, completedAt: Date, discoveryExitStatus: Int? = nil, discoveryDescription: String? = nil,
        tapExitStatus: Int? = nil, tapDescription: String? = nil, targetExitStatus: Int? = nil,
        targetDescription: String? = nil, streamRecords: [String: Int] = [:], loadedRecords: [String: Int] = [:],
        confirmedState: String? = nil
    ) {
        self.loadedRecords = loadedRecords
        self.status = status
        self.completedAt = completedAt
        self.discoveryExitStatus = discoveryExitStatus
        self.discoveryDescription = discoveryDescription
        self.tapExitStatus = tapExitStatus
        self.tapDescription = tapDescription
        self.targetExitStatus = targetExitStatus
        self.targetDescription = targetDescription
        self.streamRecords = streamRecords
        self.confirmedState = confirmedState
    }

    /// A job stopped by `DELETE …/sync` or by shutdown: Stitch shows null exit statuses and
    /// "Terminated" descriptions.
    public static func stopped(at date: Date, streamRecords: [String: Int] = [:], confirmedState: String? = nil) -> JobOutcome {
        JobOutcome(
            status: .stopped, completedAt: date, discoveryDescription: "Terminated", tapDescription: "Terminated",
            targetDescription: "Terminated", streamRecords: streamRecords, confirmedState: confirmedState)
    }
}
