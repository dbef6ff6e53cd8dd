import Foundation
import TaplineCore

/// Discovery and stream selection, whichever database holds them (`Store`, `ClusterStore`):
/// connection checks (one running per source), the streams a check found, and the selection
/// made through the API. Both apply the rules of `StreamRecord+Catalog` and put a source that
/// becomes fully configured on the schedule by the rule every change uses.
public protocol StreamStore: AnyObject, Sendable {
    /// The configured source types (which have discovery or a declared check).
    var catalog: SourceTypeCatalog { get }
    /// Live sources that still await a connection check (discovery never found their streams,
    /// or a declared check never ran): the only ones a start must look at.
    func sourcesAwaitingCheck() async throws -> [SourceRecord]
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

/// Stitch's account-wide reads (`GET /v4/extractions`, `GET /v4/loads`) and the health probe,
/// whichever database holds them.
public protocol ExtractionStore: AnyObject, Sendable {
    /// The last completed job of every source that completed one since `since`, by source id.
    func lastExtractions(since: Date, page: Int, perPage: Int) async throws -> (jobs: [(job: JobRecord, sourceType: String)], total: Int)
    /// The latest load of every stream loaded since `since`, by stream name.
    func loads(since: Date, page: Int, perPage: Int) async throws -> (loads: [StreamLoad], total: Int)
    /// Whether the database answers a trivial read now (for `/healthz`).
    func isReachable() async throws -> Bool
}

/// Everything the HTTP API needs of a store.
public typealias APIStore = ReplicationStore & ExtractionStore & ConsoleStore

extension StreamLoad {
    package init(
        sourceID: Int64, sourceName: String, streamName: String, lastBatchLoadedAt: Date?, errorState: String?, records: Int,
        jobName: String
    ) throws {
        self.init(
            sourceID: sourceID, sourceName: sourceName, streamName: streamName, lastBatchLoadedAt: lastBatchLoadedAt,
            failure: try errorState.map(LoadFailure.init(json:)), records: records, jobName: jobName)
    }
}
