import Foundation
import GRDB
import TaplineCore

/// One row of the append-only `source_events` audit table: why a source did or did not run.
public struct SourceEvent: Sendable, Equatable, FetchableRecord {
    public enum Kind: String, Sendable {
        case created, updated, paused, unpaused, deleted, skipped
        case systemPaused = "system_paused"
        case systemUnpaused = "system_unpaused"
        /// A manual job was asked for (its name in `detail`): through the API or the console.
        case manualStart = "manual_start"
        /// A stop of the running job was asked for (its name in `detail`).
        case stopRequested = "stop_requested"
    }

    public var id: Int64
    public var sourceID: Int64
    public var at: Date
    public var kind: Kind
    public var actor: String
    public var reason: String?
    public var detail: String?

    package init(id: Int64, sourceID: Int64, at: Date, kind: Kind, actor: String, reason: String?, detail: String?) {
        self.id = id
        self.sourceID = sourceID
        self.at = at
        self.kind = kind
        self.actor = actor
        self.reason = reason
        self.detail = detail
    }
}

extension Store {
    /// Appends an event inside the caller's transaction, so the event and the change it records
    /// commit together or not at all.
    static func appendEvent(
        _ db: Database, sourceID: Int64, kind: SourceEvent.Kind, actor: Actor, at: Date,
        reason: String? = nil, detail: String? = nil
    ) throws {
        try db.run(
            "INSERT INTO source_events (source_id, at, kind, actor, reason, detail) VALUES (?, ?, ?, ?, ?, ?)",
            [sourceID, StoredTime.millis(at), kind.rawValue, actor.name, reason, detail])
    }

    /// A source's events, oldest first.
    public func events(sourceID: Int64) async throws -> [SourceEvent] {
        try await writer.read { db in
            try SourceEvent.fetchAll(db, sql: "SELECT * FROM source_events WHERE source_id = ? ORDER BY id", arguments: [sourceID])
        }
    }
}

extension SourceEvent {
    public init(row: Row) throws {
        guard let kind = SourceEvent.Kind(rawValue: row["kind"]) else { throw StoreError.corruptValue("event kind") }
        self.init(
            id: row["id"], sourceID: row["source_id"], at: try StoredTime.required(row["at"]), kind: kind,
            actor: row["actor"], reason: row["reason"], detail: row["detail"])
    }
}
