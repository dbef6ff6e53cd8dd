import Foundation
import Logging
import TaplineCore
import TaplineStore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Delivers the webhook outbox (`webhook_deliveries`): every job end and system-pause change a
/// webhook subscribed to, POSTed with an HMAC signature, at least once.
///
/// The deliveries are written by triggers inside the transaction of their event, so nothing here
/// is on the path of a start or an API answer: the dispatcher is woken after such a commit, reads
/// what is due, sends up to `concurrency` at a time, and records each attempt. A failed attempt
/// (no answer within the timeout, or a status outside 2xx) is retried with doubling, jittered
/// waits from 1 s up to an hour; a delivery still failing `giveUpAfterHours` after its event is
/// abandoned. Pending deliveries survive restarts: they are rows.
public final class WebhookDispatcher: Sendable {
    struct Endpoint: Sendable {
        var target: WebhookTarget
        var url: URL
        var secret: [UInt8]
    }

    let store: Store
    let endpoints: [String: Endpoint]
    let settings: NotificationSettings
    let logger: Logger
    let metrics: TaplineMetrics?
    let now: @Sendable () -> Date
    let wake = WakeSignal()
    let session: URLSession
    static let concurrency = 8
    static let backoff = RetryPolicy(retries: Int.max, initialDelay: 1, maxDelay: 3600)

    /// Reads every webhook's secret and writes the configured webhooks to the store; a missing
    /// secret or a bad URL is an error naming the webhook.
    public init(
        store: Store, settings: NotificationSettings, logger: Logger, metrics: TaplineMetrics? = nil,
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
        try store.configureWebhooks(
            settings.webhooks.map { WebhookSubscription(name: $0.name, url: $0.url, events: $0.events) }, now: now())
        let wake = self.wake
        store.onDeliveriesQueued { wake.signal() }
    }

    /// Delivers until cancelled. Returns within about a second of cancellation; what is still
    /// pending is delivered after the next start.
    public func run() async {
        var lastPrune = Date.distantPast
        while !Task.isCancelled {
            let due: [WebhookDelivery]
            do {
                due = try store.dueDeliveries(now: now(), limit: 64)
            } catch {
                logger.error("cannot read the webhook outbox", metadata: ["error": "\(error)"])
                await wake.wait(upTo: .seconds(5))
                continue
            }
            if due.isEmpty {
                if now().timeIntervalSince(lastPrune) > 3600 {
                    lastPrune = now()
                    _ = try? store.pruneDeliveries(before: now().addingTimeInterval(-7 * 86_400))
                }
                let next = (try? store.nextDeliveryDue()) ?? nil
                let wait = next.map { min(5, max(0.01, $0.timeIntervalSince(now()))) } ?? 5
                await wake.wait(upTo: .milliseconds(Int64(wait * 1000)))
                continue
            }
            let attempts = await withTaskGroup(of: (Int64, DeliveryAttempt).self) { group in
                var results: [(id: Int64, attempt: DeliveryAttempt)] = []
                var running = 0
                for delivery in due {
                    if running == Self.concurrency, let result = await group.next() {
                        results.append(result)
                        running -= 1
                    }
                    group.addTask { (delivery.id, await self.attempt(delivery)) }
                    running += 1
                }
                for await result in group { results.append(result) }
                return results
            }
            do {
                try store.recordDeliveryAttempts(attempts)
            } catch {
                // The attempts stay pending and are made again: at least once.
                logger.error("cannot record webhook deliveries", metadata: ["error": "\(error)"])
                await wake.wait(upTo: .seconds(1))
            }
        }
    }

    /// Returns once no delivery is due (sent or waiting for a retry), or after `limit`.
    public func waitUntilNothingDue(upTo limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            guard let due = try? store.dueDeliveries(now: now(), limit: 1), !due.isEmpty else { return }
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
