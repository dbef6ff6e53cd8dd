import Foundation
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineRuntime

@Suite("Job registry")
struct JobRegistryTests {
    /// Two committed jobs of one source (the second after the first ended).
    func twoJobs() async throws -> (JobRecord, JobRecord) {
        let h = try Harness()
        defer { h.cleanup() }
        let source = try await h.createSource("s", properties: [:])
        guard case .started(let first, _) = try await h.store.startManualJob(sourceID: source.id, now: start, jobName: "a")
        else { throw CancellationError() }
        try h.store.recordCompletions([(first.id, JobOutcome(status: .succeeded, completedAt: start))])
        guard case .started(let second, _) = try await h.store.startManualJob(sourceID: source.id, now: start, jobName: "b")
        else { throw CancellationError() }
        return (first, second)
    }

    @Test("shutdown's wait returns when the last job leaves, not at the next poll or the timeout")
    func waitsForEmpty() async throws {
        let registry = JobRegistry()
        let (earlier, a) = try await twoJobs()
        registry.register(a)
        let began = ContinuousClock.now
        async let waited: Void = registry.waitUntilEmpty(timeout: 30)
        try await Task.sleep(for: .milliseconds(50))
        registry.remove(earlier)  // another job of the source: not this one
        #expect(registry.count == 1)
        registry.remove(a)
        await waited
        #expect(ContinuousClock.now - began < .seconds(5))
    }

    @Test("the wait gives up at its timeout while a job runs")
    func timeout() async throws {
        let registry = JobRegistry()
        registry.register(try await twoJobs().1)
        let began = ContinuousClock.now
        await registry.waitUntilEmpty(timeout: 0.2)
        #expect(ContinuousClock.now - began >= .milliseconds(200))
        #expect(registry.count == 1)
    }
}
