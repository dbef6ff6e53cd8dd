import Foundation
import Synchronization

/// A database call that did not answer within its deadline.
public struct ClusterDeadlineExceeded: Error, CustomStringConvertible {
    public let what: String
    public let limit: Duration
    public var description: String { "\(what) did not answer within \(limit)" }
}

/// Runs `operation` and answers within `limit` whether or not it ends: on time, its result; late,
/// `ClusterDeadlineExceeded`, and the operation is cancelled and left to end on its own.
///
/// Structured timeouts (a task group racing a sleep) wait for the losing child, and a query on
/// a connection the server is terminating was seen never to end, cancelled or not (postgres-nio
/// 1.33.2, `pg_terminate_backend` racing a query): a caller that must go on (the change feed,
/// which then reconnects) cannot wait for it. The abandoned task holds only what `operation`
/// captured.
///
/// `reported` is the limit the error names when it differs from the time waited (what was left
/// of a call's limit).
func withDeadline<T: Sendable>(
    _ limit: Duration, _ what: String, limit reported: Duration? = nil, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = DeadlineRace<T>()
    return try await withCheckedThrowingContinuation { continuation in
        race.arm(continuation)
        race.setWork(Task { race.finish(with: await Result(catching: { try await operation() })) })
        race.setTimer(
            Task {
                guard (try? await Task.sleep(for: limit)) != nil else { return }
                race.expire(ClusterDeadlineExceeded(what: what, limit: reported ?? limit))
            })
    }
}

/// Who resumes the caller first: the operation's end or the deadline.
private final class DeadlineRace<T: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<T, any Error>?, work: Task<Void, Never>?, timer: Task<Void, Never>?)>(
        (nil, nil, nil))

    func arm(_ continuation: CheckedContinuation<T, any Error>) { state.withLock { $0.continuation = continuation } }
    func setWork(_ work: Task<Void, Never>) { state.withLock { $0.work = work } }
    /// A timer set after the operation ended is cancelled at once.
    func setTimer(_ timer: Task<Void, Never>) {
        let ended = state.withLock { held in
            held.timer = timer
            return held.continuation == nil
        }
        if ended { timer.cancel() }
    }

    func finish(with result: Result<T, any Error>) {
        let (continuation, timer) = state.withLock { held in
            defer { held.continuation = nil }
            return (held.continuation, held.timer)
        }
        timer?.cancel()
        continuation?.resume(with: result)
    }

    func expire(_ error: ClusterDeadlineExceeded) {
        let (continuation, work) = state.withLock { held in
            defer { held.continuation = nil }
            return (held.continuation, held.work)
        }
        guard let continuation else { return }
        work?.cancel()
        continuation.resume(throwing: error)
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
