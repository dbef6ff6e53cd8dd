import Foundation
import TaplineCore

/// A source as stored: what the API shows (minus credentials) and what the scheduler needs.
public struct SourceRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var displayName: String
    public var type: String
    /// Non-credential connection properties, excluding the scheduling keys.
    public var properties: [String: String]
    /// Credential properties. Never returned by the API and never logged.
    public var credentials: [String: String]
    /// The explicitly set frequency; `nil` means the type's default.
    public var frequencyMinutes: Int?
    public var anchorTime: Date?
    public var cronExpression: String?
    /// The IANA zone the cron expression is read in; `nil`: UTC.
    public var cronTimeZone: String?
    public var destinationID: Int64?
    public var pausedAt: Date?
    public var systemPausedAt: Date?
    public var systemPauseReason: String?
    public var deletedAt: Date?
    /// When the next scheduled job is due; `nil` while paused, system paused, deleted, not fully
    /// configured, or when the schedule never fires again.
    public var nextFireAt: Date?
    /// A failed scheduled job's retry waiting for its time (`nextFireAt` is then the retry's).
    /// Any other change of the due time (pause, delete, edit, unpause, a manual start) drops it.
    public var pendingRetry: PendingRetry?
    public var checkJobName: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// A connection check (discovery) found streams.
    public var discovered = false
    /// At least one discovered stream is selected.
    public var streamsSelected = false

    /// Whether the scheduler may start jobs of this source.
    public var isActive: Bool { pausedAt == nil && systemPausedAt == nil && deletedAt == nil }

    /// The names of every property that has a value (credentials included), for the report card.
    public var providedProperties: Set<String> {
        var names = Set(properties.keys).union(credentials.keys)
        if frequencyMinutes != nil { names.insert(SchedulingProperty.frequency) }
        if anchorTime != nil { names.insert(SchedulingProperty.anchorTime) }
        if cronExpression != nil { names.insert(SchedulingProperty.cronExpression) }
        if cronTimeZone != nil { names.insert(SchedulingProperty.cronTimeZone) }
        return names
    }

    /// The configuration step the source is at, given its type.
    public func configurationStep(type sourceType: SourceType) -> ConfigurationStep {
        ConfigurationStep.current(
            for: sourceType, providedProperties: providedProperties, discovered: discovered, streamsSelected: streamsSelected)
    }

    /// Whether the scheduler may start jobs of the source: active, of a configured type, and fully
    /// configured. The API shows a `schedule` exactly when this holds.
    public func isSchedulable(in catalog: SourceTypeCatalog) -> Bool {
        guard isActive, let type = catalog[type] else { return false }
        return configurationStep(type: type) == .fullyConfigured
    }

    /// The effective schedule, given the source's type (for the default frequency).
    public func schedule(type sourceType: SourceType?) -> Schedule {
        let frequency = frequencyMinutes ?? sourceType?.defaultFrequencyMinutes ?? 60
        let cron = cronExpression.flatMap(CronExpression.cached)
        return Schedule(frequencyMinutes: frequency, anchor: anchorTime, cron: cron, zone: cronTimeZone.flatMap(CronTimeZone.named))
    }
}
