import TaplineRuntime
import Testing

/// A cluster node's `/metrics`: every series names the node, so several nodes scraped into one
/// Prometheus stay apart; a single node's series are as they were.
@Suite("Metrics: labels by node")
struct MetricsLabelsTests {
    static func exercise(_ metrics: TaplineMetrics) {
        metrics.occurrenceSkipped(reason: "overlap", count: 2)
        metrics.scheduledStart(lateness: 0.004)
        metrics.setRunning(3)
        metrics.request(route: "/v4/sources", method: "GET", status: 200, seconds: 0.002)
        metrics.nodeLease(name: "node-b", held: true)
    }

    @Test("a node's every series carries node=\"<name>\", once")
    func clusterNode() {
        let metrics = TaplineMetrics(node: "node-b")
        Self.exercise(metrics)
        let text = metrics.render()
        #expect(text.contains(#"tapline_occurrences_skipped_total{reason="overlap",node="node-b"} 2"#), "\(text)")
        #expect(text.contains(#"tapline_jobs_running{node="node-b"} 3"#))
        #expect(text.contains(#"tapline_scheduled_start_lateness_seconds_count{node="node-b"} 1"#))
        #expect(
            text.contains(#"tapline_http_request_duration_seconds_count{route="/v4/sources",method="GET",status="200",node="node-b"} 1"#))
        #expect(text.contains(#"tapline_node_lease_held{node="node-b"} 1"#))
        let series = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(!series.isEmpty && series.allSatisfy { $0.contains(#"node="node-b""#) }, "a series without the node")
        #expect(series.allSatisfy { $0.components(separatedBy: "node=").count == 2 }, "a series with the node twice")
    }

    @Test("a single node's series have no node label")
    func singleNode() {
        let metrics = TaplineMetrics()
        metrics.occurrenceSkipped(reason: "overlap", count: 2)
        metrics.setRunning(1)
        let text = metrics.render()
        #expect(text.contains(#"tapline_occurrences_skipped_total{reason="overlap"} 2"#))
        #expect(text.contains("tapline_jobs_running 1"))
        #expect(!text.contains("node="))
    }
}
