import Foundation
import TaplineCore

/// Discovery and stream selection, whichever database holds them (`Store`, `ClusterStore`):
/// connection checks (one running per source), the streams a check found, and the selection
/// made through the API. Both apply the rules of `StreamRecord+Catalog` and put a source that
/// becomes fully configured on the schedule by the rule every change uses.
public protocol StreamStore: AnyObject, Sendable {
    /// Records the start of a check; `false` if one is already running for the source.
    func startConnectionCheck(sourceID: Int64, name: String, now: Date) async throws -> Bool
    /// Ends a check; with `streams` (a successful discovery) they replace the source's streams,
    /// keeping the selections of the streams still there. Returns the source afterwards.
    @discardableResult
    func finishConnectionCheck(name: String, exitStatus: Int, errorMessage: String?, streams: [DiscoveredStream]?, now: Date)
        async throws -> SourceRecord?
    /// The source's most recent check.
    func lastConnectionCheck(sourceID: Int64) async throws -> ConnectionCheck?
    /// The source's streams, in discovery order.
    func streams(sourceID: Int64) async throws -> [StreamRecord]
    /// The selected streams' catalog a job's tap gets (`--catalog`); `nil` without streams.
    func selectedCatalog(sourceID: Int64) async throws -> String?
    /// Merges metadata entries into streams and updates their selections.
    func updateStreamMetadata(sourceID: Int64, changes: [(tapStreamID: String, entries: [[String: Any]])], now: Date)
        async throws -> SourceRecord
}

extension Store: StreamStore {}
