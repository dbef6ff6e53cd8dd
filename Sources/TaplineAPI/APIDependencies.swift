import Foundation
import Logging
import TaplineCore
import TaplineStore

/// Starts and stops job processes (the job runner), seen from the API.
public protocol JobControl: Sendable {
    /// Spawns the job whose row was just committed.
    func start(_ job: JobRecord, source: SourceRecord)
    /// Stops the source's running job; returns whether one was running.
    func stop(sourceID: Int64) -> Bool
}

/// Whether the daemon's loop is alive, for `/healthz`.
public protocol LoopHealth: Sendable {
    func isLoopAlive(now: Date) -> Bool
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

    var catalog: SourceTypeCatalog { store.catalog }
}
