import Foundation
import Logging
import TaplineAPI
import TaplineStoreContract

/// A member of a cluster as the console shows it (`node_status`).
public struct ConsoleMember: Sendable, Equatable {
    public var name: String
    public var address: String?
    public var epoch: Int64
    public var leaseExpiresAt: Date
    public var state: String

    public init(name: String, address: String?, epoch: Int64, leaseExpiresAt: Date, state: String) {
        self.name = name
        self.address = address
        self.epoch = epoch
        self.leaseExpiresAt = leaseExpiresAt
        self.state = state
    }
}

/// A configured webhook as the console shows it: its name, the host it posts to (the path and
/// query may carry a secret, so they are not shown) and the events it receives.
public struct ConsoleWebhook: Sendable, Equatable {
    public var name: String
    public var host: String
    public var events: [String]

    public init(name: String, host: String, events: [String]) {
        self.name = name
        self.host = host
        self.events = events
    }
}

/// What the console needs beyond the API's own dependencies, passed in by the composition root.
public struct ConsoleDependencies: Sendable {
    public var api: APIDependencies
    public var logger: Logger
    /// The cluster's members; `nil` on a single node.
    public var members: (@Sendable () async throws -> [ConsoleMember])?
    public var webhooks: [ConsoleWebhook] = []
    /// How many pages may hold a live stream at once; the rest poll.
    public var liveCapacity = 64

    public init(api: APIDependencies, logger: Logger) {
        self.api = api
        self.logger = logger
    }
}
