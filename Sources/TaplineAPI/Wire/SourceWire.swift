import Foundation
import TaplineCore
import TaplineStoreContract

/// The Stitch v4 Source object, built from a stored source.
///
/// Kept apart from `SourceRecord` so the wire contract cannot drift when the domain does.
/// Credentials are never part of it.
public enum SourceWire {
    public static func json(_ source: SourceRecord, catalog: SourceTypeCatalog, stitchClientID: Int64) -> WireJSON {
        let type = catalog[source.type]
        return .object([
            ("id", .int(source.id)),
            ("name", .string(source.name)),
            ("display_name", .string(source.displayName)),
            ("type", .string(source.type)),
            ("stitch_client_id", .int(stitchClientID)),
            ("properties", properties(source, type: type)),
            ("schedule", schedule(source, catalog: catalog)),
            ("report_card", ReportCardWire.forSource(source, type: type)),
            ("check_job_name", .optional(source.checkJobName)),
            ("paused_at", .optional(source.pausedAt.map(Timestamp.format))),
            ("system_paused_at", .optional(source.systemPausedAt.map(Timestamp.format))),
            ("system_pause_reason", .optional(source.systemPauseReason)),
            ("destination_id", source.destinationID.map(WireJSON.int) ?? .null),
            ("deleted_at", .optional(source.deletedAt.map(Timestamp.format))),
            ("created_at", .string(Timestamp.format(source.createdAt))),
            ("updated_at", .string(Timestamp.format(source.updatedAt))),
        ])
    }

    /// The returned properties: the plain ones, the effective frequency (never null, as Stitch
    /// documents), the anchor with milliseconds when set, and the cron expression or `null`.
    static func properties(_ source: SourceRecord, type: SourceType?) -> WireJSON {
        var members: [(String, WireJSON)] = source.properties.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }
        if let anchor = source.anchorTime {
            members.append((SchedulingProperty.anchorTime, .string(Timestamp.formatMilliseconds(anchor))))
        }
        members.append((SchedulingProperty.cronExpression, .optional(source.cronExpression)))
        // A tapline extension: shown only when set, so Stitch clients see Stitch's keys alone.
        if let zone = source.cronTimeZone { members.append((SchedulingProperty.cronTimeZone, .string(zone))) }
        let frequency = source.frequencyMinutes ?? type?.defaultFrequencyMinutes
        members.append((SchedulingProperty.frequency, .optional(frequency.map(String.init))))
        return .object(members.sorted { $0.0 < $1.0 })
    }

    /// `null` unless the scheduler may start jobs of the source (paused, system paused, deleted
    /// and not yet fully configured sources have none); otherwise the Stitch schedule object with
    /// the store's real next fire time.
    static func schedule(_ source: SourceRecord, catalog: SourceTypeCatalog) -> WireJSON {
        guard source.isSchedulable(in: catalog) else { return .null }
        let next = WireJSON.optional(source.nextFireAt.map(Timestamp.format))
        switch source.schedule(type: catalog[source.type]) {
        case .cron(let expression, let zone):
            var members: [(String, WireJSON)] = [
                ("type", .string("cron")), ("cron_expression", .string(expression.text)), ("next_fire_time", next),
            ]
            if let zone { members.append(("cron_timezone", .string(zone.identifier))) }
            return .object(members)
        case .interval(let minutes), .anchored(let minutes, _):
            return .object([
                ("type", .string("interval")), ("unit", .string("minute")), ("interval", .double(Double(minutes))),
                ("next_fire_time", next),
            ])
        }
    }
}
