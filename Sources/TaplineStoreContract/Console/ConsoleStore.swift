import Foundation
import TaplineCore

/// One live source as the console's list shows it: its identity, pause state, schedule and due
/// time, the job running now apart from the last one that ended (so a new run after a failure
/// does not read as a success), and when it last succeeded and failed. Credentials are not read:
/// the list never shows them, so it never opens them.
public struct SourceOverview: Sendable, Equatable {
    public struct Job: Sendable, Equatable {
        public var name: String
        public var status: JobStatus
        public var startedAt: Date
        public var completedAt: Date?
        public var discoveryExitStatus: Int?
        public var tapExitStatus: Int?
        public var targetExitStatus: Int?

        public init(
            name: String, status: JobStatus, startedAt: Date, completedAt: Date? = nil, discoveryExitStatus: Int? = nil,
            tapExitStatus: Int? = nil, targetExitStatus: Int? = nil
        ) {
            self.name = name
            self.status = status
            self.startedAt = startedAt
            self.completedAt = completedAt
            self.discoveryExitStatus = discoveryExitStatus
            self.tapExitStatus = tapExitStatus
            self.targetExitStatus = targetExitStatus
        }
    }

    public var id: Int64
    public var name: String
    public var displayName: String
    public var type: String
    public var pausedAt: Date?
    public var systemPausedAt: Date?
    public var systemPauseReason: String?
    public var nextFireAt: Date?
    public var frequencyMinutes: Int?
    public var anchorTime: Date?
    public var cronExpression: String?
    public var cronTimeZone: String?
    public var createdAt: Date
    /// The job running now, if any.
    public var running: Job?
    /// The most recent job that ended.
    public var last: Job?
    public var lastSuccessAt: Date?
    public var lastFailureAt: Date?

    public init(id: Int64, name: String, displayName: String, type: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.displayName = displayName
        self.type = type
        self.createdAt = createdAt
    }
}

/// A fingerprint of the jobs table that changes whenever a job starts or ends, on any node:
/// the newest job's id moves with every start, and the running set's count and id sum with
/// every end. The console compares two to know whether to refresh, without reading rows.
public struct JobActivity: Sendable, Equatable {
    public var newestJobID: Int64
    public var runningCount: Int
    public var runningIDSum: Int64

    public init(newestJobID: Int64, runningCount: Int, runningIDSum: Int64) {
        self.newestJobID = newestJobID
        self.runningCount = runningCount
        self.runningIDSum = runningIDSum
    }
}

/// A webhook delivery as the console lists it.
public struct DeliverySummary: Sendable, Equatable {
    public var id: Int64
    public var webhook: String
    public var event: String
    public var sourceID: Int64
    public var createdAt: Date
    public var attempts: Int
    public var deliveredAt: Date?
    public var abandonedAt: Date?
    public var lastStatus: Int?
    public var lastError: String?

    public init(id: Int64, webhook: String, event: String, sourceID: Int64, createdAt: Date, attempts: Int) {
        self.id = id
        self.webhook = webhook
        self.event = event
        self.sourceID = sourceID
        self.createdAt = createdAt
        self.attempts = attempts
    }
}

/// What the console reads and records beyond the API's operations, whichever database holds
/// the sources (`Store`, `ClusterStore`).
public protocol ConsoleStore: AnyObject, Sendable {
    /// Every live (not deleted) source, by id, as the list shows it.
    func sourceOverviews() async throws -> [SourceOverview]
    /// The jobs' fingerprint now.
    func jobActivity() async throws -> JobActivity
    /// The newest webhook deliveries, newest first.
    func recentDeliveries(limit: Int) async throws -> [DeliverySummary]
    /// Appends an audit event for a request that changes no source row (a manual start, a
    /// stop request), with the token that asked and its reason.
    func recordRequest(sourceID: Int64, kind: SourceEvent.Kind, actor: Actor, reason: String?, detail: String?, now: Date)
        async throws
}
