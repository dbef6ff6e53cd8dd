import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Singer jobs through the real binary: bookmarks, loads, extractions, logs, failures and the
/// system pause they lead to.
@Suite("End to end: Singer jobs", .serialized)
struct SingerJobsEndToEndTests {
    static func daemon(config: String? = nil) async throws -> (DaemonProcess, HTTPClient, String) {
        let dir = NSTemporaryDirectory() + "tapline-e2e-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var arguments: [String] = []
        if let config {
            try config.write(toFile: dir + "/tapline.yaml", atomically: true, encoding: .utf8)
            arguments = ["--config", dir + "/tapline.yaml"]
        }
        let daemon = try DaemonProcess(stateDirectory: dir + "/state", arguments: arguments)
        let api = try HTTPClient(address: try await daemon.address(), stateDirectory: dir + "/state")
        return (daemon, api, dir)
    }

    @Test("bookmarks carry across jobs; extractions, loads and logs match what ran")
    func bookmarksAndHistory() async throws {
        let (daemon, api, dir) = try await Self.daemon()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await api.call(
            "POST", "/v4/sources",
            #"{"type":"platform.demo","display_name":"Shop","properties":{"record_count":"4","streams":"users,orders","frequency_in_minutes":"1440","api_key":"s3cret-key"}}"#
        )
        try await api.waitFor("the first job") { try await api.jobs(1).first?["status"] as? String == "succeeded" }
        let (_, started) = try await api.call("POST", "/v4/sources/1/sync")
        let second = try #require((started as? [String: Any])?["job_name"] as? String)
        try await api.waitFor("the second job") {
            let jobs = try await api.jobs(1)
            return jobs.count == 2 && jobs[0]["status"] as? String == "succeeded"
        }
        // The second job resumed from the first one's bookmark: ids 1–4, then 5–8.
        let users = try String(contentsOfFile: dir + "/state/output/users.jsonl", encoding: .utf8)
        let ids = users.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["id"] as? Int
        }
        #expect(ids == Array(1...8))

        let (_, extractions) = try await api.call("GET", "/v4/1/extractions")
        let page = try #require(extractions as? [String: Any])
        let rows = try #require(page["data"] as? [[String: Any]])
        #expect(page["total"] as? Int == 1 && rows.count == 1)
        #expect(rows[0]["job_name"] as? String == second)
        #expect(rows[0]["source_type"] as? String == "demo-tap")
        #expect(rows[0]["tap_exit_status"] as? Int == 0 && rows[0]["target_exit_status"] as? Int == 0)

        let (_, loads) = try await api.call("GET", "/v4/1/loads")
        let loadRows = try #require((loads as? [String: Any])?["data"] as? [[String: Any]])
        #expect(loadRows.map { $0["stream_name"] as? String } == ["orders", "users"])
        #expect(loadRows.allSatisfy { $0["source_name"] as? String == "shop" && $0["error_state"] is NSNull })
        #expect(loadRows.allSatisfy { $0["last_batch_loaded_at"] is String })

        let (wrongClient, _) = try await api.call("GET", "/v4/2/extractions")
        #expect(wrongClient == 401)
        // The log: 302 to a URL tapline serves (URLSession follows it with the same token).
        let (logStatus, log) = try await api.text("/v4/1/extractions/\(second)")
        #expect(logStatus == 200)
        // Stitch's log format, which integrations parse: every line starts with its UTC time.
        let lines = log.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(
            !lines.isEmpty && lines.allSatisfy { $0.wholeMatch(of: /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}Z (tap|target|main) - .*/) != nil },
            "\(log)")
        #expect(log.contains("target - INFO emitting state {\"bookmarks\""))
        #expect(log.contains(#"tap - INFO replicated 4 records from "users" endpoint"#))
        #expect(log.contains(#"tap - INFO replicated 4 records from "orders" endpoint"#))
        #expect(log.contains("target - INFO com.stitchdata.target-stitch-avro.flush-pipeline - send-stream-record-count-impl users\n"))
        #expect(log.contains("main - INFO Exit status is: Discovery: 0. Tap: 0. Target: 0."))
        #expect(!log.contains("s3cret-key"), "credentials never reach the log")
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)
    }

    @Test("a failing tap's last error line is its description; N failures system-pause; a manual success clears it")
    func failuresAndSystemPause() async throws {
        let (daemon, api, dir) = try await Self.daemon(config: "listen: 127.0.0.1:0\njobs:\n  failures_before_system_pause: 2\n")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await api.call(
            "POST", "/v4/sources",
            #"{"type":"platform.demo","display_name":"Flaky","properties":{"fail":"true","record_count":"1","cron_expression":"* * * ? * *"}}"#
        )
        try await api.waitFor("the system pause") {
            let (_, source) = try await api.call("GET", "/v4/sources/1")
            return (source as? [String: Any])?["system_paused_at"] is String
        }
        let (_, source) = try await api.call("GET", "/v4/sources/1")
        let object = try #require(source as? [String: Any])
        #expect((object["system_pause_reason"] as? String)?.hasPrefix("2 consecutive scheduled jobs failed") == true)
        #expect(object["schedule"] is NSNull)
        let failed = try #require(try await api.jobs(1).first)
        #expect(failed["tap_exit_status"] as? Int == 1)
        #expect(failed["tap_description"] as? String == "CRITICAL demo-tap: failing on purpose (fail=true)")
        let countAtPause = try await api.jobs(1).count
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try await api.jobs(1).count == countAtPause, "no scheduled job while system paused")

        // A manual job still runs; once it succeeds, the system pause is cleared.
        try await api.call("PUT", "/v4/sources/1", #"{"properties":{"fail":"false"}}"#)
        try await api.call("POST", "/v4/sources/1/sync")
        try await api.waitFor("the system pause to clear") {
            let (_, source) = try await api.call("GET", "/v4/sources/1")
            return (source as? [String: Any])?["system_paused_at"] is NSNull
        }
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)
    }
}

/// Discovery through the real binary: a connection check, stream selection, and jobs that
/// extract only the selected streams.
@Suite("End to end: discovery and streams", .serialized)
struct DiscoveryEndToEndTests {
    static let config = """
        listen: 127.0.0.1:0
        source_types:
          - type: platform.demo-discovery
            tap: [tapline, demo-tap]
            discovery: true
            properties:
              - name: streams
                required: true
              - name: record_count
        """

    @Test("form → discover_schema → field_selection → fully_configured; only selected streams are extracted")
    func discoveryFlow() async throws {
        let (daemon, api, dir) = try await SingerJobsEndToEndTests.daemon(config: Self.config)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func step() async throws -> String? {
            let (_, source) = try await api.call("GET", "/v4/sources/1")
            return ((source as? [String: Any])?["report_card"] as? [String: Any])?["current_step_type"] as? String
        }
        let (_, created) = try await api.call(
            "POST", "/v4/sources", #"{"type":"platform.demo-discovery","display_name":"Disc"}"#)
        #expect(((created as? [String: Any])?["report_card"] as? [String: Any])?["current_step_type"] as? String == "form")
        try await api.call("PUT", "/v4/sources/1", #"{"properties":{"streams":"users,orders","record_count":"2"}}"#)
        try await api.waitFor("discovery") { try await step() == "field_selection" }

        let (_, check) = try await api.call("GET", "/v4/sources/1/last-connection-check")
        let checkObject = try #require(check as? [String: Any])
        #expect(checkObject["mode"] as? String == "check" && checkObject["status"] as? String == "succeeded")
        #expect(checkObject["check_exit_status"] as? Int == 0 && checkObject["error"] as? Bool == false)
        #expect((checkObject["name"] as? String)?.contains(".1.check.") == true)
        let (_, source) = try await api.call("GET", "/v4/sources/1")
        #expect((source as? [String: Any])?["check_job_name"] as? String == checkObject["name"] as? String)
        #expect((source as? [String: Any])?["schedule"] is NSNull)

        let (_, streams) = try await api.call("GET", "/v4/sources/1/streams")
        let list = try #require(streams as? [[String: Any]])
        #expect(list.map { $0["tap_stream_id"] as? String } == ["users", "orders"])
        #expect(list.allSatisfy { $0["selected"] is NSNull })
        let ordersID = try #require(list[1]["stream_id"] as? Int)
        let (_, schema) = try await api.call("GET", "/v4/sources/1/streams/\(ordersID)")
        #expect(((schema as? [String: Any])?["schema"] as? String)?.contains("\"id\"") == true)
        let (badStatus, badBody) = try await api.call("GET", "/v4/sources/1/streams/999")
        #expect(badStatus == 400 && badBody as? String == "invalid stream-id: 999")

        let (discoverable, discoverableBody) = try await api.call(
            "PUT", "/v4/sources/1/streams/metadata",
            #"{"streams":[{"tap_stream_id":"orders","metadata":[{"breadcrumb":[],"metadata":{"inclusion":"automatic"}}]}]}"#)
        #expect(discoverable == 400)
        #expect(
            (discoverableBody as? [String: Any])?["invalid_fields"] as? String
                == "only non-discoverable metadata can be produced by the UI: #{\"inclusion\"}")
        let (selected, _) = try await api.call(
            "PUT", "/v4/sources/1/streams/metadata",
            #"{"streams":[{"tap_stream_id":"orders","metadata":[{"breadcrumb":[],"metadata":{"selected":true}}]}]}"#)
        #expect(selected == 200)
        #expect(try await step() == "fully_configured")
        // Fully configured with a plain interval: the first job runs at once, with the orders
        // stream only.
        try await api.waitFor("the first job") { try await api.jobs(1).first?["status"] as? String == "succeeded" }
        let outputs = try FileManager.default.contentsOfDirectory(atPath: dir + "/state/output")
        #expect(outputs == ["orders.jsonl"])
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)
    }
}

/// Every type with a check gets connection checks, as Stitch runs one for every complete form.
@Suite("End to end: connection checks without discovery")
struct DeclaredCheckEndToEndTests {
    @Test("the demo type's declared check runs on create; a failing one is run again once the source is fixed")
    func declaredCheck() async throws {
        let (daemon, api, dir) = try await SingerJobsEndToEndTests.daemon()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await api.call(
            "POST", "/v4/sources",
            #"{"type":"platform.demo","display_name":"Good","properties":{"cron_expression":"0 0 0 1 1 ?"}}"#)
        try await api.call(
            "POST", "/v4/sources",
            #"{"type":"platform.demo","display_name":"Bad","properties":{"fail":"true","cron_expression":"0 0 0 1 1 ?"}}"#)
        func check(_ id: Int) async throws -> [String: Any]? {
            let (status, json) = try await api.call("GET", "/v4/sources/\(id)/last-connection-check")
            guard status == 200, let check = json as? [String: Any], check["status"] as? String != "running" else { return nil }
            return check
        }
        try await api.waitFor("both checks") {
            let first = try await check(1)
            let second = try await check(2)
            return first != nil && second != nil
        }
        let good = try #require(try await check(1))
        #expect(good["status"] as? String == "succeeded" && good["check_exit_status"] as? Int == 0)
        let (_, source) = try await api.call("GET", "/v4/sources/1")
        #expect((source as? [String: Any])?["check_job_name"] as? String == good["name"] as? String)
        let bad = try #require(try await check(2))
        #expect(bad["status"] as? String == "failed" && bad["error"] as? Bool == true)
        #expect((bad["discovery_error_message"] as? String)?.contains("set to fail") == true, "\(bad)")
        // Fixing the source runs the check again.
        try await api.call("PUT", "/v4/sources/2", #"{"properties":{"fail":"false"}}"#)
        try await api.waitFor("the second check") {
            guard let again = try await check(2) else { return false }
            return again["name"] as? String != bad["name"] as? String && again["status"] as? String == "succeeded"
        }
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)
    }
}
