import Foundation
import Logging
import Synchronization
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineRuntime

@Suite("Job recorder")
struct JobRecorderTests {
    /// `drain` is what shutdown and the scheduler tests rely on to know every outcome is
    /// committed. Outcomes that arrive while a group commit is in flight go into a follow-up
    /// flush enqueued after that commit; a drain called in between must wait for it too.
    @Test("drain waits for outcomes that arrived while a group commit was in flight, and for their callbacks")
    func drainCoversFollowUpFlush() async throws {
        let store = try Store.inMemory(catalog: testCatalog).withTestDestination()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let recorder = JobRecorder(store: store, logger: logger, policy: CompletionPolicy())
        for round in 0..<100 {
            let done = Mutex(0)
            let outcome = JobOutcome(status: .succeeded, completedAt: start)
            // The first starts a flush; the rest land while it writes.
            for i in 0..<5 {
                recorder.completed(jobID: Int64(round * 10 + i), outcome: outcome) { _ in
                    // A callback takes time (the runner removes a workspace): drain must wait for it.
                    usleep(200)
                    done.withLock { $0 += 1 }
                }
            }
            await recorder.drain()
            #expect(done.withLock { $0 } == 5, "round \(round)")
        }
    }
}
