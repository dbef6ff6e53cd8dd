import Foundation

/// Which of a source's jobs a listing shows (`GET /v4/sources/{id}/jobs?status=…&trigger=…&since=…&until=…`).
public struct JobFilter: Sendable, Equatable {
    /// Any of these statuses (empty: all).
    public var statuses: [JobStatus] = []
    public var trigger: JobTrigger?
    /// Started at or after.
    public var since: Date?
    /// Started before.
    public var until: Date?

    public init(statuses: [JobStatus] = [], trigger: JobTrigger? = nil, since: Date? = nil, until: Date? = nil) {
        self.statuses = statuses
        self.trigger = trigger
        self.since = since
        self.until = until
    }

    /// The SQL condition after `source_id = ?`, and its arguments.
    package var sql: (condition: String, arguments: [String]) {
        var parts: [String] = []
        var arguments: [String] = []
        if !statuses.isEmpty {
            parts.append("status IN (\(Array(repeating: "?", count: statuses.count).joined(separator: ",")))")
            arguments += statuses.map(\.rawValue)
        }
        if let trigger {
            parts.append("trigger = ?")
            arguments.append(trigger.rawValue)
        }
        if let since {
            parts.append("started_at >= ?")
            arguments.append(StoredTime.millis(since))
        }
        if let until {
            parts.append("started_at < ?")
            arguments.append(StoredTime.millis(until))
        }
        return (parts.map { " AND " + $0 }.joined(), arguments)
    }
}
