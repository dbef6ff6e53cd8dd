import Foundation
import TaplineCore

/// One row of the append-only `source_events` audit table: why a source did or did not run.
public struct SourceEvent: Sendable, Equatable {
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
