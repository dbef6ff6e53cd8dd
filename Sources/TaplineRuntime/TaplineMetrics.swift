import Foundation
import Prometheus
import Synchronization
import TaplineStoreContract

/// tapline's Prometheus metrics, served at `GET /metrics`.
///
/// On a node of a cluster every series carries `node="<name>"`, so the series of several nodes
/// scraped into one Prometheus stay apart even when the scrape's own labels do not say which
/// node answered (a load balancer in front); a single node's series have no such label.
public final class TaplineMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// The cluster node's name, added to every series' labels; `nil` on a single node.
    public let node: String?
    private let lateness: DurationHistogram
    private let jobDuration: DurationHistogram
    private let running: Gauge
    private let webhookLatency: DurationHistogram
    private let requests = Mutex<[String: DurationHistogram]>([:])
    private static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    public init(node: String? = nil) {
        self.node = node
        let labels = Self.labels([], node: node)
        lateness = registry.makeDurationHistogram(
            descriptor: Self.name(
                "scheduled_start_lateness", unit: "seconds", help: "From an occurrence's due time to its job's processes spawned."),
            labels: labels, buckets: Self.latencyBuckets)
        jobDuration = registry.makeDurationHistogram(
            descriptor: Self.name("job_duration", unit: "seconds", help: "From a job's start to its end."),
            labels: labels,
            buckets: [.seconds(1), .seconds(10), .seconds(60), .seconds(300), .seconds(900), .seconds(3600), .seconds(4 * 3600)])
        webhookLatency = registry.makeDurationHistogram(
            descriptor: Self.name("webhook_delivery_latency", unit: "seconds", help: "From an event's commit to its webhook's delivery."),
            labels: labels, buckets: Self.latencyBuckets)
        running = registry.makeGauge(descriptor: Self.name("jobs_running", unit: "", help: "Jobs running now."), labels: labels)
    }

    /// `labels` with the node's, on a node of a cluster.
    static func labels(_ labels: [(String, String)], node: String?) -> [(String, String)] {
        guard let node else { return labels }
        return labels + [("node", node)]
    }

    private func labels(_ labels: [(String, String)]) -> [(String, String)] { Self.labels(labels, node: node) }

    static func name(_ metric: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "tapline", metricName: metric, unitName: unit, helpText: help)
    }

    /// A job started; a retry (attempt 2 or later) is also counted on its own.
    public func jobStarted(_ job: JobRecord) {
        registry.makeCounter(
            descriptor: Self.name("jobs_started", unit: "total", help: "Jobs started, by trigger."),
            labels: labels([("trigger", job.trigger.rawValue)])
        ).increment()
        if job.attempt > 1 {
            registry.makeCounter(
                descriptor: Self.name("job_retries_started", unit: "total", help: "Retries of failed scheduled jobs started."),
                labels: labels([])
            ).increment()
        }
    }

    /// A cluster node's lease (`tapline_node_lease_held{node="…"}`: 1 held, 0 not), the series
    /// that says whether the node these series come from is serving.
    public func nodeLease(name: String, held: Bool) {
        registry.makeGauge(
            descriptor: Self.name("node_lease_held", unit: "", help: "1 while this cluster node holds its lease, else 0."),
            labels: [("node", name)]
        ).set(to: held ? 1 : 0)
    }

    public func scheduledStart(lateness seconds: TimeInterval) {
        lateness.record(Duration.milliseconds(Int64((max(0, seconds) * 1000).rounded())))
    }

    /// A due occurrence that did not start, by reason (`overlap`, `paused`, `system_paused`,
    /// `outside_catch_up_window`, …).
    public func occurrenceSkipped(reason: String, count: Int = 1) {
        registry.makeCounter(
            descriptor: Self.name("occurrences_skipped", unit: "total", help: "Due occurrences that did not start, by reason."),
            labels: labels([("reason", reason)])
        ).increment(by: Int64(count))
    }

    /// A step of the wall clock the scheduler noticed (`forward` or `backward`).
    public func clockStepped(direction: String) {
        registry.makeCounter(
            descriptor: Self.name("clock_steps", unit: "total", help: "Steps of the wall clock noticed by the scheduler, by direction."),
            labels: labels([("direction", direction)])
        ).increment()
    }

    public func jobEnded(_ job: JobRecord) {
        registry.makeCounter(
            descriptor: Self.name("jobs_ended", unit: "total", help: "Jobs ended, by outcome."),
            labels: labels([("status", job.status.rawValue)])
        ).increment()
        if let end = job.completedAt {
            jobDuration.record(Duration.milliseconds(Int64(max(0, end.timeIntervalSince(job.startedAt)) * 1000)))
        }
    }

    public func setRunning(_ count: Int) { running.set(Double(count)) }

    /// A webhook delivery succeeded, `latency` seconds after its event committed.
    public func webhookDelivered(event: String, latency: TimeInterval) {
        registry.makeCounter(
            descriptor: Self.name("webhook_deliveries", unit: "total", help: "Webhook deliveries that succeeded, by event."),
            labels: labels([("event", event)])
        ).increment()
        webhookLatency.record(Duration.milliseconds(Int64((max(0, latency) * 1000).rounded())))
    }

    /// A webhook delivery attempt failed (it is retried, or abandoned when too old).
    public func webhookFailed() {
        registry.makeCounter(
            descriptor: Self.name("webhook_attempts_failed", unit: "total", help: "Webhook delivery attempts that failed."),
            labels: labels([])
        ).increment()
    }

    /// One API request.
    public func request(route: String, method: String, status: Int, seconds: TimeInterval) {
        let key = "\(route)|\(method)|\(status)"
        let histogram = requests.withLock { cache -> DurationHistogram in
            if let existing = cache[key] { return existing }
            let made = registry.makeDurationHistogram(
                descriptor: Self.name("http_request_duration", unit: "seconds", help: "API request latency, by route, method and status."),
                labels: labels([("route", route), ("method", method), ("status", String(status))]), buckets: Self.latencyBuckets)
            cache[key] = made
            return made
        }
        histogram.record(Duration.microseconds(Int64(max(0, seconds) * 1_000_000)))
    }

    /// The Prometheus text exposition.
    public func render() -> String { registry.emitToString() }
}
