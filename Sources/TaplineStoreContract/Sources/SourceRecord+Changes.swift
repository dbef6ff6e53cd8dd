import Foundation
import TaplineCore

/// An audit event a change records, before it is written (the store appends it in the change's
/// own transaction, with the change's actor and time).
package struct PlannedEvent: Sendable, Equatable {
    package var kind: SourceEvent.Kind
    package var reason: String?
    package var detail: String?
}

/// What a validated PUT does to a source: the record after it and the events it records.
package struct SourceUpdatePlan: Sendable {
    package var after: SourceRecord
    package var events: [PlannedEvent]
}

/// The rules of creating and changing a source, shared by every backend of the store (SQLite for
/// one node, PostgreSQL for a cluster), so both compute the same record, the same due time and
/// the same audit trail from the same request. Only reading the last job start is the
/// backend's: it is passed in.
extension SourceRecord {
    /// A new source as it will be inserted (id 0 until the insert assigns one), with its first
    /// due time when it is fully configured.
    package static func planCreation(_ new: NewSource, catalog: SourceTypeCatalog, now: Date) -> SourceRecord {
        var record = SourceRecord(
            id: 0, name: new.name, displayName: new.displayName, type: new.type, properties: [:],
            credentials: [:], destinationID: new.destinationID, createdAt: now, updatedAt: now)
        record.apply(new.changes)
        if record.isSchedulable(in: catalog) {
            record.nextFireAt = NextFirePolicy.afterCreation(record.schedule(type: catalog[record.type]), now: now)
        }
        return record
    }

    /// The source after `patch`: display name, merged properties, pause state and the recomputed
    /// due time, with an event for every pause-state change and one for edited fields.
    package func planUpdate(
        _ patch: SourcePatch, catalog: SourceTypeCatalog, now: Date, lastStart: () throws -> Date?
    ) rethrows -> SourceUpdatePlan {
        var after = self
        if let displayName = patch.displayName { after.displayName = displayName }
        if let destinationID = patch.destinationID { after.destinationID = destinationID }
        after.apply(patch.changes)
        switch patch.pause {
        case .pause(let shownAs): after.pausedAt = shownAs
        case .unpause: after.pausedAt = nil
        case nil: break
        }
        if patch.clearSystemPause {
            after.systemPausedAt = nil
            after.systemPauseReason = nil
        }
        after.nextFireAt = try Self.nextFire(
            before: self, after: after, scheduleEdited: patch.changes.touchesSchedule, catalog: catalog, now: now,
            lastStart: lastStart)
        after.updatedAt = now
        // A retry lives only as long as the due time it set.
        if after.nextFireAt != nextFireAt { after.pendingRetry = nil }

        var events: [PlannedEvent] = []
        if pausedAt == nil, after.pausedAt != nil {
            events.append(PlannedEvent(kind: .paused, reason: patch.reason))
        } else if pausedAt != nil, after.pausedAt == nil {
            events.append(PlannedEvent(kind: .unpaused, reason: patch.reason))
        }
        if systemPausedAt != nil, after.systemPausedAt == nil {
            events.append(PlannedEvent(kind: .systemUnpaused, reason: systemPauseReason))
        }
        let changedKeys = patch.changes.changedKeys
        if patch.displayName != nil || patch.destinationID != nil || !changedKeys.isEmpty {
            var detail = changedKeys
            if patch.displayName != nil { detail.insert("display_name", at: 0) }
            if patch.destinationID != nil { detail.append("destination_id") }
            events.append(PlannedEvent(kind: .updated, detail: detail.joined(separator: ",")))
        }
        return SourceUpdatePlan(after: after, events: events)
    }

    /// The next fire time after a change of a source, by what the change did: made it
    /// unschedulable (none), made it schedulable again (unpause rules) or for the first time (a new
    /// source's rules), edited its schedule, or left the schedule alone (unchanged). Every write
    /// that can move a source's due time goes through here. `lastStart` (the start of the
    /// source's most recent job, manual or scheduled) is read only when a rule needs it.
    package static func nextFire(
        before: SourceRecord, after: SourceRecord, scheduleEdited: Bool, catalog: SourceTypeCatalog, now: Date,
        lastStart: () throws -> Date?
    ) rethrows -> Date? {
        guard after.isSchedulable(in: catalog) else { return nil }
        let schedule = after.schedule(type: catalog[after.type])
        if !before.isSchedulable(in: catalog) {
            let lastStart = try lastStart()
            if !before.isActive {
                return NextFirePolicy.afterUnpause(schedule, lastStart: lastStart, createdAt: before.createdAt, now: now)
            }
            return lastStart == nil
                ? NextFirePolicy.afterCreation(schedule, now: now)
                : NextFirePolicy.afterScheduleChange(schedule, lastStart: lastStart, now: now)
        }
        if scheduleEdited, schedule != before.schedule(type: catalog[before.type]) {
            return NextFirePolicy.afterScheduleChange(schedule, lastStart: try lastStart(), now: now)
        }
        return before.nextFireAt
    }

    /// Merges validated property changes into the record, key by key.
    package mutating func apply(_ changes: PropertyChanges) {
        for (key, change) in changes.regular { properties[key] = change.newValue }
        for (key, change) in changes.credentials { credentials[key] = change.newValue }
        if let change = changes.frequencyMinutes { frequencyMinutes = change.newValue }
        if let change = changes.anchorTime { anchorTime = change.newValue }
        if let change = changes.cronExpression { cronExpression = change.newValue?.text }
        if let change = changes.cronTimeZone { cronTimeZone = change.newValue }
    }
}

extension NewSource {
    /// The error a create answers when a live source has its display name, or any source
    /// (deleted ones included: a schema name stays reserved) has its name.
    package func nameClash(displayNameTaken: Bool, nameTaken: Bool) -> SourceError? {
        if displayNameTaken { return SourceError.invalidName("non-unique name (\(displayName))") }
        guard nameTaken else { return nil }
        return nameWasDerived
            ? SourceError.invalidName("non-unique name after deriving it from display_name (\(displayName) -> \(name))")
            : SourceError.invalidName("non-unique name (\(name))")
    }
}

extension PropertyChanges {
    /// The names of the changed properties, sorted, for the audit trail (never their values).
    package var changedKeys: [String] {
        var keys = Array(regular.keys) + Array(credentials.keys)
        if frequencyMinutes != nil { keys.append(SchedulingProperty.frequency) }
        if anchorTime != nil { keys.append(SchedulingProperty.anchorTime) }
        if cronExpression != nil { keys.append(SchedulingProperty.cronExpression) }
        if cronTimeZone != nil { keys.append(SchedulingProperty.cronTimeZone) }
        return keys.sorted()
    }
}
