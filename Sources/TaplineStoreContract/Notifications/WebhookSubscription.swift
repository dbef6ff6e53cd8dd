import Foundation
import TaplineCore

/// A webhook as configured: deliveries are made for the events it lists.
public struct WebhookSubscription: Sendable, Equatable {
    public var name: String
    public var url: String
    public var events: [WebhookEvent]

    public init(name: String, url: String, events: [WebhookEvent]) {
        self.name = name
        self.url = url
        self.events = events
    }
}

/// What a webhook can be told.
public enum WebhookEvent: String, Sendable, CaseIterable {
    case jobSucceeded = "job.succeeded"
    case jobFailed = "job.failed"
    case jobStopped = "job.stopped"
    case systemPaused = "source.system_paused"
    case systemUnpaused = "source.system_unpaused"
}

/// One pending delivery with what its body is made of, read in one query.
public struct WebhookDelivery: Sendable {
    public var id: Int64
    public var webhook: String
    public var event: WebhookEvent
    public var createdAt: Date
    public var attempts: Int
    public var reason: String?
    public var source: (id: Int64, name: String, displayName: String)
    public var job: JobRecord?

    package init(
        id: Int64, webhook: String, event: WebhookEvent, createdAt: Date, attempts: Int, reason: String?,
        source: (id: Int64, name: String, displayName: String), job: JobRecord?
    ) {
        self.id = id
        self.webhook = webhook
        self.event = event
        self.createdAt = createdAt
        self.attempts = attempts
        self.reason = reason
        self.source = source
        self.job = job
    }
}

/// How one attempt went.
public enum DeliveryAttempt: Sendable {
    case delivered(status: Int, at: Date)
    /// Try again at `retryAt`.
    case failed(status: Int?, error: String, at: Date, retryAt: Date)
    /// No more attempts.
    case abandoned(status: Int?, error: String, at: Date)
}
