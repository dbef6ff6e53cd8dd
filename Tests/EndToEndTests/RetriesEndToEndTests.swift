import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Retries and timeouts through the real binary, with real taps: a tap that fails twice and
/// then succeeds, and a tap that hangs.
@Suite("End to end: retries and timeouts", .serialized)
struct RetriesEndToEndTests {
    /// A daemon whose `flaky` type runs `script` (a shell script written next to its state).
    static func daemon(script: String, jobs: String) async throws -> (DaemonProcess, HTTPClient, String) {
        let dir = NSTemporaryDirectory() + "tapline-e2e-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try script.write(toFile: dir + "/tap.sh", atomically: true, encoding: .utf8)
        let config = """
            listen: 127.0.0.1:0
            jobs:
            \(jobs)
            source_types:
              - type: flaky
                tap: [/bin/sh, \(dir)/tap.sh]
                allowed_frequencies: [1, 60]
            """
        try config.write(toFile: dir + "/tapline.yaml", atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(stateDirectory: dir + "/state", arguments: ["--config", dir + "/tapline.yaml"])
        let api = try HTTPClient(address: try await daemon.address(), stateDirectory: dir + "/state")
        return (daemon, api, dir)
    }

    @Test("a tap that fails twice then succeeds: three attempts of one scheduled occurrence, the last one loaded")
    func failsTwiceThenSucceeds() async throws {
        let script = #"""
            n=$(cat "$0.count" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$0.count"
            if [ "$n" -le 2 ]; then echo "CRITICAL flaky: attempt $n fails on purpose" >&2; exit 1; fi
            echo '{"type":"SCHEMA","stream":"items","schema":{"type":"object","properties":{"id":{"type":"integer"}}},"key_properties":["id"]}'
            echo '{"type":"RECORD","stream":"items","record":{"id":1}}'
            echo '{"type":"STATE","value":{"bookmarks":{"items":{"id":1}}}}'
            """#
        let (daemon, api, dir) = try await Self.daemon(
            script: script,
            jobs: "  retries: 3\n  retry_backoff_seconds: 1\n  retry_max_backoff_seconds: 2\n  failures_before_system_pause: 1")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Every minute: the first job starts at once, the next regular one a minute later.
        let (created, _) = try await api.call(
            "POST", "/v4/sources", #"{"type":"flaky","display_name":"Flaky","properties":{"frequency_in_minutes":"1"}}"#)
        #expect(created == 200)
        try await api.waitFor("the third attempt to succeed", timeout: 30) {
            try await api.jobs(1).first?["status"] as? String == "succeeded"
        }
        let jobs = try await api.jobs(1).reversed()
        #expect(jobs.map { $0["attempt"] as? Int } == [1, 2, 3])
        #expect(jobs.map { $0["status"] as? String } == ["failed", "failed", "succeeded"])
        #expect(Set(jobs.map { $0["scheduled_for"] as? String }).count == 1, "one occurrence")
        #expect(jobs.allSatisfy { $0["trigger"] as? String == "scheduled" })
        #expect(jobs.first?["tap_description"] as? String == "CRITICAL flaky: attempt 1 fails on purpose")
        // With failures_before_system_pause: 1, a failed attempt that was retried did not pause.
        let (_, source) = try await api.call("GET", "/v4/sources/1")
        let object = try #require(source as? [String: Any])
        #expect(object["system_paused_at"] is NSNull)
        // Back on the regular schedule, a minute after the occurrence.
        let schedule = try #require(object["schedule"] as? [String: Any])
        let nextText: String? = schedule["next_fire_time"] as? String
        let occurrenceText: String? = jobs.first?["scheduled_for"] as? String
        let next = try #require(nextText.flatMap { Self.instant($0) })
        let occurrence = try #require(occurrenceText.flatMap { Self.instant($0) })
        // Both are shown in whole seconds, each truncated: within a second and a half.
        #expect(abs(next.timeIntervalSince(occurrence) - 60) <= 1.5)
        let output = try String(contentsOfFile: dir + "/state/output/items.jsonl", encoding: .utf8)
        #expect(output.split(separator: "\n").count == 1)
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)
    }

    @Test("a hanging tap is stopped by its timeout, fails saying so, is retried, and leaves no process behind")
    func hangingTapTimesOut() async throws {
        // A sleep no other process runs, to look for afterwards.
        let sleep = "sleep 6\(Int.random(in: 10_000..<99_999))"
        let (daemon, api, dir) = try await Self.daemon(
            script: "echo started >> \"$0.count\"\nexec \(sleep)\n",
            jobs: "  timeout_seconds: 1\n  retries: 1\n  retry_backoff_seconds: 1\n  retry_max_backoff_seconds: 1")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await api.call(
            "POST", "/v4/sources", #"{"type":"flaky","display_name":"Hangs","properties":{"frequency_in_minutes":"60"}}"#)
        try await api.waitFor("both attempts to time out", timeout: 30) {
            let jobs = try await api.jobs(1)
            return jobs.count == 2 && jobs.allSatisfy { $0["status"] as? String == "failed" }
        }
        let jobs = try await api.jobs(1).reversed()
        #expect(jobs.map { $0["attempt"] as? Int } == [1, 2])
        for job in jobs {
            #expect(job["tap_description"] as? String == "the job ran longer than its timeout (1 s, jobs.timeout_seconds) and was stopped")
        }
        // The attempts are used up: nothing more of that occurrence, and no sleep left running.
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try await api.jobs(1).count == 2)
        let started = try String(contentsOfFile: dir + "/tap.sh.count", encoding: .utf8)
        #expect(started.split(separator: "\n").count == 2)
        #expect(Self.processes(matching: sleep).isEmpty)
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)
    }

    static func instant(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }

    /// Live processes whose command line contains `text`.
    static func processes(matching text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(text)
        }
    }
}
