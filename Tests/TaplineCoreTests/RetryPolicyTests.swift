import Foundation
import TaplineCore
import Testing

@Suite("Retry policy")
struct RetryPolicyTests {
    let policy = RetryPolicy(retries: 4, initialDelay: 60, maxDelay: 300)
    let end = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("waits double from the first, stop at the maximum, and are jittered into their upper half")
    func waits() {
        #expect([2, 3, 4, 5, 6].map { policy.delay(beforeAttempt: $0, unit: 1) } == [60, 120, 240, 300, 300])
        #expect(policy.delay(beforeAttempt: 2, unit: 0) == 30)
        #expect(policy.delay(beforeAttempt: 3, unit: 0.5) == 90)
        // Out-of-range draws are clamped; a huge attempt does not overflow.
        #expect(policy.delay(beforeAttempt: 2, unit: 7) == 60 && policy.delay(beforeAttempt: 10_000, unit: 1) == 300)
        for _ in 0..<1000 {
            let d = policy.delay(beforeAttempt: 3, unit: Double.random(in: 0..<1))
            #expect(d >= 60 && d <= 120)
        }
    }

    @Test("a retry only while attempts remain and before the next regular occurrence")
    func retryAt() {
        #expect(policy.retryAt(afterFailedAttempt: 1, endedAt: end, regularNext: end + 3600, unit: 1) == end + 60)
        #expect(policy.retryAt(afterFailedAttempt: 4, endedAt: end, regularNext: end + 3600, unit: 1) == end + 300)
        #expect(policy.retryAt(afterFailedAttempt: 5, endedAt: end, regularNext: end + 3600, unit: 1) == nil, "attempts used up")
        #expect(
            policy.retryAt(afterFailedAttempt: 1, endedAt: end, regularNext: end + 60, unit: 1) == nil, "not before the next occurrence")
        #expect(policy.retryAt(afterFailedAttempt: 1, endedAt: end, regularNext: nil, unit: 0) == end + 30, "no further occurrence")
        #expect(RetryPolicy().retryAt(afterFailedAttempt: 1, endedAt: end, regularNext: nil, unit: 0) == nil, "off by default")
    }
}
