import Foundation
import Logging
import TaplineCore
import TaplineStoreContract

/// Starts and stops job processes (the job runner), seen from the API.
public protocol JobControl: Sendable {
    /// Spawns the job whose row was just committed.
    func start(_ job: JobRecord, source: SourceRecord)
    /// Stops the source's running job, or asks the node that runs it to; returns whether one
    /// was running.
    func stop(sourceID: Int64) async throws -> Bool
}

/// Whether the daemon's loop is alive, for `/healthz`.
public protocol LoopHealth: Sendable {
    func isLoopAlive(now: Date) -> Bool
}

/// A cluster node's membership, for `/healthz`: a node whose lease is not held starts nothing
/// (it answers reads and pauses, but a load balancer should send manual starts elsewhere).
public protocol NodeHealth: Sendable {
    var nodeName: String { get }
    /// The epoch of the lease the node holds now; `nil` while it holds none (not joined yet, or
    /// fenced).
    var heldEpoch: Int64? { get }
}

/// Where a job's log is when it is not on this node: a node of a cluster fetches it from the
/// node that ran the job (`GET …/extractions/{job}/log` on any node).
public protocol LogRelay: Sendable {
    /// `nil`: the job ran on this node, so its log is not elsewhere. `path` is the request's
    /// path (the same on every node); `authorization` is forwarded as the caller sent it.
    func fetch(jobName: String, path: String, authorization: String?) async -> RelayedLog?
}

public enum RelayedLog: Sendable, Equatable {
    /// A copy of the log fetched from the node that ran the job; removed once it is served.
    case file(path: String)
    /// The node that ran the job no longer keeps its log.
    case missing(node: String)
    /// The node that ran the job cannot be asked now: why.
    case unreachable(String)
}

/// Records API requests and renders `/metrics`.
public protocol APIMetrics: Sendable {
    func request(route: String, method: String, status: Int, seconds: TimeInterval)
    func render() -> String
}

/// What the HTTP layer needs from the rest of tapline, passed in by the composition root.
public struct APIDependencies: Sendable {
    public var store: any APIStore
    public var tokens: TokenSet
    /// The account id shown as `stitch_client_id` and used in job names.
    public var stitchClientID: Int64
    /// Largest accepted request body, in bytes (larger: 413).
    public var maxBodyBytes: Int
    /// How long a request body may take to arrive (longer: 408).
    public var bodyTimeout: Duration = .seconds(30)
    /// `nil`: the API cannot start jobs (`POST …/sync` answers as if the daemon had no runner).
    public var jobs: (any JobControl)?
    public var health: (any LoopHealth)?
    /// Errors that mean "not now" rather than a bug, with the reason the client is given in a
    /// Stitch-shaped 503 (`Retry-After: 1`). Each backend names its own (the composition root
    /// passes `Store.unavailableReason` or the cluster's); the default treats every error as a
    /// failure.
    public var unavailable: @Sendable (any Error) -> String? = { _ in nil }
    /// `nil`: a single node (the embedded store), with no lease to report.
    public var node: (any NodeHealth)?
    /// `nil`: every log is on this node.
    public var logRelay: (any LogRelay)?
    public var metrics: (any APIMetrics)?
    /// The destination types callers may create the destination of.
    public var destinationTypes = DestinationTypeCatalog([])
    public var now: @Sendable () -> Date

    public init(
        store: any APIStore, tokens: TokenSet, stitchClientID: Int64 = 1, maxBodyBytes: Int = 1 << 20,
        jobs: (any JobControl)? = nil, health: (any LoopHealth)? = nil,
        metrics: (any APIMetrics)? = nil, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.tokens = tokens
        self.stitchClientID = stitchClientID
        self.maxBodyBytes = maxBodyBytes
        self.jobs = jobs
        self.health = health
        self.metrics = metrics
        self.now = now
    }

    package var catalog: SourceTypeCatalog { store.catalog }
}
