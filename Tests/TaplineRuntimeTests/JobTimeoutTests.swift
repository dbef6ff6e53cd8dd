import Foundation
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineRuntime

@Suite("Job timeouts and retries")
struct JobTimeoutTests {
    func waitForSignal(_ pipeline: FakePipeline, seconds: Double) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while pipeline.received.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        return !pipeline.received.isEmpty
    }

    @Test("a job running past jobs.timeout_seconds is stopped as DELETE …/sync stops it and ends failed, saying why")
    func timesOut() async throws {
        var jobs = JobPolicy()
        jobs.timeoutSeconds = 0.2
        let h = try Harness(jobs: jobs)
        defer { h.cleanup() }
        try h.scheduler.start()
        let source = try await h.createSource("slow", properties: [:])
        await h.tick()
        let pipeline = try #require(h.launcher.all.first?.pipeline)
        #expect(try await waitForSignal(pipeline, seconds: 5))
        #expect(pipeline.received == [SIGTERM])
        h.launcher.exit(0, tap: .signaled(SIGTERM), target: .signaled(SIGTERM))
        await h.runner.waitForRecords()
        let job = try #require(try await h.jobs(source.id).first)
        #expect(job.status == .failed, "a timeout is a failure (it counts toward the system pause), not a stop")
        #expect(job.tapDescription == "the job ran longer than its timeout (0.2 s, jobs.timeout_seconds) and was stopped")
        #expect(job.discoveryExitStatus == 0)
    }

    @Test("a job that ends before its timeout is not signalled afterwards; 0 means no limit")
    func endsInTime() async throws {
        var jobs = JobPolicy()
        jobs.timeoutSeconds = 1
        // The pipeline exits as soon as it is launched, well inside its second.
        let h = try Harness(autoExit: true, jobs: jobs)
        defer { h.cleanup() }
        try h.scheduler.start()
        let source = try await h.createSource("quick", properties: [:])
        await h.tick()
        for _ in 0..<200 where try await h.jobs(source.id).first?.status == .running {
            try await Task.sleep(for: .milliseconds(5))
        }
        try await Task.sleep(for: .milliseconds(1300))
        #expect(h.launcher.all[0].pipeline.received.isEmpty)
        #expect(try await h.jobs(source.id).first?.status == .succeeded)

        let unlimited = try Harness()
        defer { unlimited.cleanup() }
        try unlimited.scheduler.start()
        _ = try await unlimited.createSource("long", properties: [:])
        await unlimited.tick()
        try await Task.sleep(for: .milliseconds(300))
        #expect(unlimited.launcher.all[0].pipeline.received.isEmpty)
    }

    @Test("jobs.timeout_seconds and a source type's timeout_seconds are read and checked")
    func configuration() throws {
        let config = try TaplineConfiguration.parse(
            yaml: """
                jobs:
                  timeout_seconds: 3600
                source_types:
                  - type: platform.x
                    tap: [tap-x]
                    timeout_seconds: 0
                """)
        #expect(config.jobs.timeoutSeconds == 3600)
        #expect(config.catalog["platform.x"]?.timeoutSeconds == 0)
        #expect(throws: ConfigurationError.self) { try TaplineConfiguration.parse(yaml: "jobs:\n  timeout_seconds: -1\n") }
        #expect(throws: ConfigurationError.self) {
            try TaplineConfiguration.parse(yaml: "source_types:\n  - type: platform.x\n    tap: [tap-x]\n    timeout_seconds: 9999999999\n")
        }
    }

    @Test("jobs.retries and its backoff are read and checked")
    func retryConfiguration() throws {
        let config = try TaplineConfiguration.parse(
            yaml: "jobs:\n  retries: 3\n  retry_backoff_seconds: 5\n  retry_max_backoff_seconds: 40\n")
        #expect(config.jobs.retry == RetryPolicy(retries: 3, initialDelay: 5, maxDelay: 40))
        #expect(try TaplineConfiguration.parse(yaml: "{}").jobs.retry.retries == 0, "no retries unless asked")
        for (yaml, message) in [
            ("retries: 21", "jobs.retries: must be between 0 (no retries) and 20"),
            ("retry_backoff_seconds: 0", "jobs.retry_backoff_seconds: must be between 1 and 86400"),
            (
                "retry_backoff_seconds: 120\n  retry_max_backoff_seconds: 60",
                "jobs.retry_max_backoff_seconds: must not be below jobs.retry_backoff_seconds (120)"
            ),
        ] {
            #expect(throws: ConfigurationError("configuration: " + message)) { try TaplineConfiguration.parse(yaml: "jobs:\n  \(yaml)\n") }
        }
    }
}
