import Foundation
import PostgresNIO
import Synchronization
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineCluster

/// `DELETE …/sync` on a node that does not run the job: the request reaches the node that does,
/// by notification, or by the next reconcile when the notification was missed.
@Suite("Cluster: stops through any node", .enabled(if: PostgresServer.available, "needs PostgreSQL (apt-get install postgresql)"))
struct ClusterStopsTests {
    final class Heard: Sendable {
        let requests = Mutex<[StopRequest]>([])
        func add(_ request: StopRequest) { requests.withLock { $0.append(request) } }
        var all: [StopRequest] { requests.withLock { $0 } }

        func wait(for request: StopRequest, within seconds: Double = 10) async throws {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while !all.contains(request) {
                guard ContinuousClock.now < deadline else { throw ServerError("never heard \(request); heard \(all)") }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    @Test("a stop asked of the other node reaches the node that runs the job, naming that job; no running job: nil")
    func stopReachesTheRunningNode() async throws {
        try await ClusterJobsTests.withTwoNodes { first, second, database in
            let heard = Heard()
            first.onStopRequest { heard.add($0) }
            let source = try await ClusterJobsTests.source(first, "Shop")
            #expect(try await second.requestStop(sourceID: source.id) == nil)
            guard case .started(let job, _) = try await first.startManualJob(sourceID: source.id, now: Date(), jobName: "on-n1")
            else {
                Issue.record("not started")
                return
            }
            let request = try #require(try await second.requestStop(sourceID: source.id))
            #expect(request == StopRequest(node: "n1", jobName: "on-n1", sourceID: source.id))
            try await heard.wait(for: request)
            // Asking twice keeps the first request's time; the job is still the one named.
            var firstAsked: [Date] = []
            for try await at in try await database.client.query("SELECT stop_requested_at FROM jobs WHERE id = \(job.id)")
                .decode(Date.self)
            {
                firstAsked.append(at)
            }
            #expect(try await second.requestStop(sourceID: source.id) == request)
            for try await at in try await database.client.query("SELECT stop_requested_at FROM jobs WHERE id = \(job.id)")
                .decode(Date.self)
            {
                #expect([at] == firstAsked)
            }
            // Once the job ended, there is nothing to stop.
            _ = try await first.recordCompletions([(job.id, .stopped(at: Date()))], policy: CompletionPolicy())
            #expect(try await second.requestStop(sourceID: source.id) == nil)
        }
    }

    @Test("a request made while a node was not listening reaches it at its next reconcile")
    func reconcileHandsOverPendingStops() async throws {
        try await ClusterJobsTests.withTwoNodes { first, second, database in
            let source = try await ClusterJobsTests.source(first, "Shop")
            guard case .started = try await first.startManualJob(sourceID: source.id, now: Date(), jobName: "pending")
            else {
                Issue.record("not started")
                return
            }
            let request = try #require(try await second.requestStop(sourceID: source.id))
            // A node whose feed starts (or reconnects) after the notification was sent.
            try await withNodeStore(
                on: database.location, catalog: ClusterJobsTests.catalog, reconcileInterval: .milliseconds(200)
            ) { late in
                let heard = Heard()
                late.onStopRequest { heard.add($0) }
                try await heard.wait(for: request)
            }
        }
    }
}
