import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

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

extension SourceEvent: FetchableRecord {
    public init(row: Row) throws {
        guard let kind = SourceEvent.Kind(rawValue: row["kind"]) else { throw StoreError.corruptValue("event kind") }
        self.init(
            id: row["id"], sourceID: row["source_id"], at: try StoredTime.required(row["at"]), kind: kind,
            actor: row["actor"], reason: row["reason"], detail: row["detail"])
    }
}
