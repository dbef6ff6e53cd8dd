import Foundation
import Logging
import TaplineCore
import TaplineStoreContract

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Delivers the webhook outbox (`webhook_deliveries`): every job end and system-pause change a
/// webhook subscribed to, POSTed with an HMAC signature, at least once.
///
/// The deliveries are written by triggers inside the transaction of their event, so nothing here
/// is on the path of a start or an API answer: the dispatcher is woken after such a commit, reads
/// what is due, keeps up to `concurrency` POSTs in flight, and records each attempt. A failed attempt
/// (no answer within the timeout, or a status outside 2xx) is retried with doubling, jittered
/// waits from 1 s up to an hour; a delivery still failing `giveUpAfterHours` after its event is
/// abandoned. Pending deliveries survive restarts: they are rows.
public final class WebhookDispatcher: Sendable {
    struct Endpoint: Sendable {
        var target: WebhookTarget
        var url: URL
        var secret: [UInt8]
    }

    let store: any WebhookOutbox
    let endpoints: [String: Endpoint]
    let settings: NotificationSettings
    let logger: Logger
    let metrics: TaplineMetrics?
    let now: @Sendable () -> Date
    let wake = WakeSignal()
    let session: URLSession
    static let concurrency = 32
    /// How often attempts are recorded at most.
    static let recordSeconds = 0.25
    static let backoff = RetryPolicy(retries: Int.max, initialDelay: 1, maxDelay: 3600)

    /// Reads every webhook's secret; a missing secret or a bad URL is an error naming the
    /// webhook. `configure()` then writes the configured webhooks to the store.
    public init(
        store: any WebhookOutbox, settings: NotificationSettings, logger: Logger, metrics: TaplineMetrics? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        var endpoints: [String: Endpoint] = [:]
        for target in settings.webhooks {
            guard let url = URL(string: target.url), url.host != nil else {
                throw WebhookSetupError("notifications.webhooks[\(target.name)].url: not an http(s) URL: \(target.url)")
            }
            endpoints[target.name] = Endpoint(target: target, url: url, secret: try target.readSecret())
        }
        self.store = store
        self.endpoints = endpoints
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
        self.now = now
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = settings.timeoutSeconds
        configuration.timeoutIntervalForResource = settings.timeoutSeconds
        configuration.httpMaximumConnectionsPerHost = Self.concurrency
        session = URLSession(configuration: configuration)
        let wake = self.wake
        store.onDeliveriesQueued { wake.signal() }
    }

    /// Makes the store's webhooks the configured ones (pending deliveries of a removed webhook
    /// are abandoned), before the dispatcher runs.
    public func configure() async throws {
        try await store.configureWebhooks(
            settings.webhooks.map { WebhookSubscription(name: $0.name, url: $0.url, events: $0.events) }, now: now())
    }

    /// How long a delivery claimed by a node of a cluster stays its own: an attempt's timeout
    /// and its recording, with room to spare.
    public var claimSeconds: Double { 2 * settings.timeoutSeconds + 4 * Self.recordSeconds + 30 }

    /// Delivers until cancelled; what is still pending is delivered after the next start.
    ///
    /// Up to `concurrency` POSTs are in flight at a time and each freed slot is filled at once
    /// (one slow receiver does not hold up the rest); results are recorded in small batches. A
    /// delivery stays "in flight" here until its attempt is recorded, so it is never sent twice
    /// by this loop (only a crash between the POST and the record can repeat it).
    public func run() async {
        enum Event: Sendable {
            case attempted(Int64, DeliveryAttempt)
            case woke
        }
        await withTaskGroup(of: Event.self) { group in
            var inFlight = Set<Int64>()
            var finished: [(id: Int64, attempt: DeliveryAttempt)] = []
            var waking = false
            var lastRecord = ContinuousClock.now
            var lastPrune = Date.distantPast
            var topUp = true
            while !Task.isCancelled {
                let running = inFlight.count - finished.count
                // Read the outbox when woken or when half the slots are free, not after every
                // answer: under a steady stream that is a few reads a second, not hundreds.
                if running <= Self.concurrency / 2 || topUp {
                    topUp = false
                    do {
                        let due = try await store.dueDeliveries(now: now(), limit: Self.concurrency + inFlight.count)
                        for delivery in due.lazy.filter({ !inFlight.contains($0.id) }).prefix(Self.concurrency - running) {
                            inFlight.insert(delivery.id)
                            group.addTask { .attempted(delivery.id, await self.attempt(delivery)) }
                        }
                    } catch {
                        logger.error("cannot read the webhook outbox", metadata: ["error": "\(error)"])
                    }
                }
                if inFlight.isEmpty, now().timeIntervalSince(lastPrune) > 3600 {
                    lastPrune = now()
                    _ = try? await store.pruneDeliveries(before: now().addingTimeInterval(-7 * 86_400), limit: 1000)
                }
                if !waking {
                    // Woken by a commit that queued deliveries, by the next retry's time, or soon
                    // when results wait to be recorded.
                    let wait: Double
                    if !finished.isEmpty {
                        wait = Self.recordSeconds
                    } else if inFlight.isEmpty, let next = (try? await store.nextDeliveryDue()) ?? nil {
                        wait = min(5, max(0.01, next.timeIntervalSince(now())))
                    } else {
                        wait = 5
                    }
                    waking = true
                    let wake = self.wake
                    group.addTask {
                        await wake.wait(upTo: .milliseconds(Int64(wait * 1000)))
                        return .woke
                    }
                }
                guard let event = await group.next() else { break }
                switch event {
                case .woke:
                    waking = false
                    topUp = true
                case .attempted(let id, let attempt): finished.append((id, attempt))
                }
                // Attempts are recorded a few times a second at most: each record is a write
                // transaction, and the writer is the start path's too.
                if !finished.isEmpty, finished.count >= 256 || ContinuousClock.now - lastRecord >= .seconds(Self.recordSeconds) {
                    await record(finished)
                    inFlight.subtract(finished.map(\.id))
                    // What is due next changed (a retry was scheduled, or nothing is in flight
                    // any more): re-arm the wake-up with the right wait.
                    wake.signal()
                    finished = []
                    lastRecord = ContinuousClock.now
                } else if finished.count == 1 {
                    // The first result waiting: make the pending wake-up the record's.
                    wake.signal()
                }
            }
            group.cancelAll()
            // Attempts already made are recorded, so a delivered one is not sent again.
            for await event in group {
                if case .attempted(let id, let attempt) = event { finished.append((id, attempt)) }
            }
            await record(finished)
        }
    }

    private func record(_ attempts: [(id: Int64, attempt: DeliveryAttempt)]) async {
        do {
            try await store.recordDeliveryAttempts(attempts)
        } catch {
            // The deliveries stay pending and are attempted again: at least once.
            logger.error("cannot record webhook deliveries", metadata: ["error": "\(error)"])
        }
    }

    /// Returns once no delivery is due (sent or waiting for a retry), or after `limit`.
    public func waitUntilNothingDue(upTo limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            guard let due = try? await store.dueDeliveries(now: now(), limit: 1), !due.isEmpty else { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// One POST.
    func attempt(_ delivery: WebhookDelivery) async -> DeliveryAttempt {
        guard let endpoint = endpoints[delivery.webhook] else {
            return .abandoned(status: nil, error: "the webhook is no longer configured", at: now())
        }
        let body = WebhookPayload.body(delivery)
        let timestamp = Int(now().timeIntervalSince1970)
        var request = URLRequest(url: endpoint.url)
        request.httpMethod = "POST"
        request.httpBody = body
        request.timeoutInterval = settings.timeoutSeconds
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("tapline", forHTTPHeaderField: "User-Agent")
        request.setValue(delivery.event.rawValue, forHTTPHeaderField: "X-Tapline-Event")
        request.setValue(String(delivery.id), forHTTPHeaderField: "X-Tapline-Delivery")
        request.setValue(String(timestamp), forHTTPHeaderField: "X-Tapline-Timestamp")
        request.setValue(
            WebhookSignature.header(secret: endpoint.secret, timestamp: timestamp, body: body), forHTTPHeaderField: "X-Tapline-Signature")
        var status: Int?
        var failure: String
        do {
            let (_, response) = try await session.data(for: request)
            status = (response as? HTTPURLResponse)?.statusCode
            if let status, (200..<300).contains(status) {
                metrics?.webhookDelivered(event: delivery.event.rawValue, latency: now().timeIntervalSince(delivery.createdAt))
                return .delivered(status: status, at: now())
            }
            failure = "the receiver answered \(status.map(String.init) ?? "without a status")"
        } catch {
            failure = "\(error.localizedDescription)"
        }
        let at = now()
        metrics?.webhookFailed()
        if at.timeIntervalSince(delivery.createdAt) >= settings.giveUpAfterHours * 3600 {
            logger.error(
                "webhook delivery abandoned",
                metadata: ["webhook": "\(delivery.webhook)", "delivery.id": "\(delivery.id)", "error": "\(failure)"])
            return .abandoned(status: status, error: failure, at: at)
        }
        let retryAt = at.addingTimeInterval(Self.backoff.delay(beforeAttempt: delivery.attempts + 2, unit: Double.random(in: 0..<1)))
        logger.warning(
            "webhook delivery failed; will retry",
            metadata: [
                "webhook": "\(delivery.webhook)", "delivery.id": "\(delivery.id)", "error": "\(failure)",
                "retry_at": "\(Timestamp.formatMilliseconds(retryAt))",
            ])
        return .failed(status: status, error: failure, at: at, retryAt: retryAt)
    }
}
