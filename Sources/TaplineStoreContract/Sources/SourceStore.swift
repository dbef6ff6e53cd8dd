import Foundation
import TaplineCore

/// The source operations of a store, whichever database holds it: SQLite for one node (`Store`),
/// PostgreSQL shared by several nodes (`ClusterStore`). Both apply the same rules
/// (`SourceRecord+Changes`), commit each call in one transaction before it returns, and announce
/// every committed change of a source to their observers; one test suite runs against both.
public protocol SourceStore: AnyObject, Sendable {
    /// The configured source types (which properties are credentials, default frequencies).
    var catalog: SourceTypeCatalog { get }

    /// One source, active, paused or deleted.
    func source(id: Int64) async throws -> SourceRecord?
    /// Every source, including paused and deleted ones, by id.
    func allSources() async throws -> [SourceRecord]
    /// A page of sources by id, from after `id` on.
    func sources(after id: Int64, limit: Int) async throws -> [SourceRecord]

    /// Creates a source and, when it is fully configured, puts its first job on the schedule.
    func createSource(_ new: NewSource, actor: Actor, now: Date) async throws -> SourceRecord
    /// Applies a validated PUT; a pause is committed and durable when this returns.
    func updateSource(id: Int64, patch: SourcePatch, actor: Actor, now: Date) async throws -> SourceRecord
    /// Soft-deletes a source (idempotent).
    func deleteSource(id: Int64, actor: Actor, now: Date) async throws -> SourceRecord
    /// Pauses a source on tapline's own authority; `nil` when it does not exist.
    @discardableResult
    func systemPause(sourceID: Int64, reason: String, now: Date) async throws -> SourceRecord?

    /// A source's audit events, oldest first.
    func events(sourceID: Int64) async throws -> [SourceEvent]
    /// Registers an observer of committed source changes (held weakly).
    func observe(_ observer: any StoreObserver)
}

extension SourceRecord {
    /// A source with only its identity and times set, for a backend to fill in from its row.
    package init(id: Int64, name: String, displayName: String, type: String, createdAt: Date, updatedAt: Date) {
        self.init(
            id: id, name: name, displayName: displayName, type: type, properties: [:], credentials: [:],
            destinationID: nil, createdAt: createdAt, updatedAt: updatedAt)
    }
}
