import Foundation
import GRDB
import TaplineCore

/// A source as stored: what the API shows (minus credentials) and what the scheduler needs.
public struct SourceRecord: Sendable, Equatable, FetchableRecord {
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

extension SourceRecord {
    static let columns = """
        id, name, display_name, type, properties, tapline_open(credentials) AS credentials, frequency_in_minutes, anchor_time,
        cron_expression, cron_timezone, destination_id, paused_at, system_paused_at, system_pause_reason, deleted_at,
        next_fire_at, retry_attempt, retry_occurrence, retry_resume_at, check_job_name, created_at, updated_at,
        EXISTS (SELECT 1 FROM source_streams ss WHERE ss.source_id = sources.id) AS discovered,
        EXISTS (SELECT 1 FROM source_streams ss WHERE ss.source_id = sources.id AND ss.selected = 1) AS streams_selected
        """

    public init(row: Row) throws {
        id = row["id"]
        name = row["name"]
        displayName = row["display_name"]
        type = row["type"]
        properties = try StoredJSON.decodeStrings(row["properties"])
        credentials = try StoredJSON.decodeStrings(row["credentials"])
        frequencyMinutes = row["frequency_in_minutes"]
        anchorTime = try StoredTime.optional(row["anchor_time"])
        cronExpression = row["cron_expression"]
        cronTimeZone = row["cron_timezone"]
        destinationID = row["destination_id"]
        pausedAt = try StoredTime.optional(row["paused_at"])
        systemPausedAt = try StoredTime.optional(row["system_paused_at"])
        systemPauseReason = row["system_pause_reason"]
        deletedAt = try StoredTime.optional(row["deleted_at"])
        nextFireAt = try StoredTime.optional(row["next_fire_at"])
        if let attempt = row["retry_attempt"] as Int?, let occurrence = try StoredTime.optional(row["retry_occurrence"]) {
            pendingRetry = PendingRetry(
                attempt: attempt, occurrence: occurrence, resumeAt: try StoredTime.optional(row["retry_resume_at"]))
        }
        checkJobName = row["check_job_name"]
        createdAt = try StoredTime.required(row["created_at"])
        updatedAt = try StoredTime.required(row["updated_at"])
        discovered = row["discovered"] ?? false
        streamsSelected = row["streams_selected"] ?? false
    }
}

/// Timestamps as stored: ISO 8601 UTC text.
enum StoredTime {
    /// Whole seconds, for user-facing instants (`created_at`, `paused_at`, …).
    static func seconds(_ date: Date) -> String { Timestamp.format(date) }
    /// Milliseconds, for instants the scheduler computes with (`next_fire_at`, job times).
    static func millis(_ date: Date) -> String { Timestamp.formatMilliseconds(date) }

    static func optional(_ text: String?) throws -> Date? {
        guard let text else { return nil }
        return try required(text)
    }

    static func required(_ text: String) throws -> Date {
        // Any year: a pause may name an instant before 1970.
        guard let date = Timestamp.parse(text, years: 1...9999) else { throw StoreError.corruptValue("timestamp \(text)") }
        return date
    }
}

/// JSON text columns holding string maps (both backends store them as this text).
package enum StoredJSON {
    package static func decodeStrings(_ text: String, what: String? = nil) throws -> [String: String] {
        guard let data = text.data(using: .utf8), let map = try? JSONDecoder().decode([String: String].self, from: data)
        else { throw StoreError.corruptValue("JSON object of strings" + (what.map { " (\($0))" } ?? "")) }
        return map
    }

    /// JSON text without the whitespace between tokens, as SQLite's `json()` stores it (strings,
    /// numbers and key order untouched). The input is valid JSON (checked where it is stored).
    package static func compact(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var inString = false
        var escaped = false
        for byte in text.utf8 {
            if inString {
                out.append(byte)
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): continue
            case UInt8(ascii: "\""): inString = true
            default: break
            }
            out.append(byte)
        }
        return String(decoding: out, as: UTF8.self)
    }

    package static func encode(_ map: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding a [String: String] cannot fail.
        return String(decoding: (try? encoder.encode(map)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// Failures of the store that are not the caller's fault.
public enum StoreError: Error, CustomStringConvertible {
    /// A value in the database does not have the shape tapline writes (edited by hand?).
    case corruptValue(String)

    public var description: String {
        switch self {
        case .corruptValue(let what): "the database holds a value that is not a valid \(what)"
        }
    }
}
