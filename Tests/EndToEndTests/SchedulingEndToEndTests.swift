import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The real binary scheduling real `tapline demo-tap | tapline jsonl-target` jobs.
@Suite("End to end: scheduling and jobs", .serialized)
struct SchedulingEndToEndTests {
    @Test(
        "a every-second cron source runs; pausing stops scheduled jobs; manual jobs still run; a second start is already_running; stop is Terminated"
    )
    func pauseAndManualJobs() async throws {
        let dir = NSTemporaryDirectory() + "tapline-e2e-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try DaemonProcess(stateDirectory: dir)
        let api = try HTTPClient(address: try await daemon.address(), stateDirectory: dir)

        let (created, _) = try await api.call(
            "POST", "/v4/sources",
            #"{"type":"platform.demo","display_name":"Every second","properties":{"cron_expression":"* * * ? * *","record_count":"3"}}"#)
        #expect(created == 200)
        try await api.waitFor("three scheduled jobs") {
            try await api.jobs(1).filter { $0["status"] as? String == "succeeded" }.count >= 3
        }
        let (paused, _) = try await api.call("PUT", "/v4/sources/1", #"{"paused_at":"2026-01-01T00:00:00Z"}"#)
        #expect(paused == 200)
        let countAtPause = try await api.jobs(1).count
        try await Task.sleep(for: .milliseconds(2500))
        #expect(try await api.jobs(1).count == countAtPause, "no scheduled job after the pause was acknowledged")

        // A manual job runs while paused; it is long enough to be running for the next calls.
        try await api.call("PUT", "/v4/sources/1", #"{"properties":{"record_count":"1000","record_delay_ms":"10"}}"#)
        let (started, startBody) = try await api.call("POST", "/v4/sources/1/sync")
        #expect(started == 200)
        let jobName = try #require((startBody as? [String: Any])?["job_name"] as? String)
        #expect(jobName.hasPrefix("1.1.sync."))
        let (again, againBody) = try await api.call("POST", "/v4/sources/1/sync")
        #expect(again == 200)
        let error = (againBody as? [String: Any])?["error"] as? [String: Any]
        #expect(error?["type"] as? String == "already_running")
        #expect(error?["message"] as? String == "Did not create job for client-id: 1; connection-id: 1 because one already exists")
        let (source, sourceBody) = try await api.call("GET", "/v4/sources/1")
        #expect(source == 200 && (sourceBody as? [String: Any])?["paused_at"] as? String == "2026-01-01T00:00:00Z")

        let (stopped, stopBody) = try await api.call("DELETE", "/v4/sources/1/sync")
        #expect(stopped == 200 && (stopBody as? [String: Any])?["status"] as? Int == 200)
        try await api.waitFor("the stopped job") {
            try await api.jobs(1).first?["status"] as? String == "stopped"
        }
        let last = try #require(try await api.jobs(1).first)
        #expect(last["job_name"] as? String == jobName)
        #expect(last["trigger"] as? String == "manual")
        #expect(last["tap_exit_status"] is NSNull && last["target_exit_status"] is NSNull)
        #expect(last["tap_description"] as? String == "Terminated")

        // The records of the scheduled jobs reached the destination.
        let output = try String(contentsOfFile: dir + "/output/users.jsonl", encoding: .utf8)
        #expect(output.split(separator: "\n").count >= 9)
        // Job directories (with the credentials-bearing config) are removed afterwards.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/jobs").isEmpty)

        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)
    }

    @Test("a failing tap records its exit status; unknown and deleted sources are invalid_source")
    func failuresAndErrors() async throws {
        let dir = NSTemporaryDirectory() + "tapline-e2e-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try DaemonProcess(stateDirectory: dir)
        let api = try HTTPClient(address: try await daemon.address(), stateDirectory: dir)
        try await api.call(
            "POST", "/v4/sources",
            #"{"type":"platform.demo","display_name":"Fails","properties":{"fail":"true","frequency_in_minutes":"1440"}}"#)
        try await api.waitFor("the failed job") { try await api.jobs(1).first?["status"] as? String == "failed" }
        let job = try #require(try await api.jobs(1).first)
        #expect(job["trigger"] as? String == "scheduled")
        #expect(job["tap_exit_status"] as? Int == 1)
        #expect(job["target_exit_status"] as? Int == 0)

        let (unknown, unknownBody) = try await api.call("POST", "/v4/sources/99/sync")
        #expect(unknown == 400)
        let error = (unknownBody as? [String: Any])?["error"] as? [String: Any]
        #expect(error?["type"] as? String == "invalid_source")
        #expect(error?["message"] as? String == "Unable to locate source(99) for client (1)")
        try await api.call("DELETE", "/v4/sources/1")
        let (deleted, deletedBody) = try await api.call("POST", "/v4/sources/1/sync")
        #expect(deleted == 400)
        #expect(((deletedBody as? [String: Any])?["error"] as? [String: Any])?["message"] as? String == "Integration is deleted.")
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)
    }
}
