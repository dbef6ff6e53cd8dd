import Foundation
import TaplineCore

/// Thrown by a first planning pass when a rule asks for the source's last job start.
private struct LastStartNeeded: Error {}

/// The due-time rules read the start of a source's latest job only when a rule needs it (a
/// pause never does). SQLite reads it synchronously inside the plan; these are the same plans
/// for a store whose read is asynchronous (PostgreSQL): planned without it first, and only when
/// a rule asks is it read and the (pure, cheap) plan made again. So both stores read it exactly
/// when the rules need it.
extension SourceRecord {
    package func planUpdate(
        _ patch: SourcePatch, catalog: SourceTypeCatalog, now: Date, readingLastStart read: () async throws -> Date?
    ) async throws -> SourceUpdatePlan {
        do {
            return try planUpdate(patch, catalog: catalog, now: now) { throw LastStartNeeded() }
        } catch is LastStartNeeded {
            let start = try await read()
            return planUpdate(patch, catalog: catalog, now: now) { start }
        }
    }

    package static func nextFire(
        before: SourceRecord, after: SourceRecord, scheduleEdited: Bool, catalog: SourceTypeCatalog, now: Date,
        readingLastStart read: () async throws -> Date?
    ) async throws -> Date? {
        do {
            return try nextFire(
                before: before, after: after, scheduleEdited: scheduleEdited, catalog: catalog, now: now,
                lastStart: { throw LastStartNeeded() })
        } catch is LastStartNeeded {
            let start = try await read()
            return nextFire(before: before, after: after, scheduleEdited: scheduleEdited, catalog: catalog, now: now, lastStart: { start })
        }
    }
}
