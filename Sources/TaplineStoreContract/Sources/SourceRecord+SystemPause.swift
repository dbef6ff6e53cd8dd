import Foundation
import TaplineCore

/// A system pause as both stores write it: the source's columns after it and the event.
package struct SystemPausePlan: Sendable, Equatable {
    package var sourceID: Int64
    package var pausedAt: Date
    package var reason: String
    package var event: PlannedEvent
}

extension SourceRecord {
    /// What a system pause of this source writes (tapline's own pause: repeated failures, the
    /// destination deleted, a type gone, a command that cannot run), or `nil` when it writes
    /// nothing: a source already system paused keeps its original time and reason, and a deleted
    /// source is never system paused. Every caller on both backends goes through this guard.
    /// The write clears the due time and any pending retry, as a user pause does.
    package func systemPausePlan(reason: String, now: Date) -> SystemPausePlan? {
        guard systemPausedAt == nil, deletedAt == nil else { return nil }
        return SystemPausePlan(
            sourceID: id, pausedAt: now, reason: reason, event: PlannedEvent(kind: .systemPaused, reason: reason, detail: nil))
    }
}
