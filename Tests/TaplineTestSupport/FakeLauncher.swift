import Foundation
import Synchronization
import TaplineRuntime

/// A launcher that starts nothing: it records each pipeline and lets the test end it.
public final class FakeLauncher: PipelineLauncher {
    public struct Launch {
        public let spec: PipelineSpec
        public let onExit: @Sendable (PipelineExit) -> Void
        public let pipeline: FakePipeline
    }

    private let launches = Mutex<[Launch]>([])
    /// One counter for launches and exits, so a test can tell which came first.
    private let events = Mutex<(next: Int, launched: [Int], exited: [Int: Int])>((0, [], [:]))
    private let failure = Mutex<LaunchError?>(nil)
    private let nextGroup = Mutex<Int32>(10_000)
    /// When set, every pipeline "exits" successfully right after it starts.
    public let autoExit: Bool
    /// Runs inside each launch, i.e. after the start transaction committed and before the
    /// scheduler has taken the claim's answer: where a concurrent API change can land.
    public let duringLaunch = Mutex<(@Sendable (PipelineSpec) -> Void)?>(nil)

    public init(autoExit: Bool = false) { self.autoExit = autoExit }

    public var count: Int { launches.withLock { $0.count } }
    public var all: [Launch] { launches.withLock { $0 } }

    public func failNextLaunches(with error: LaunchError?) { failure.withLock { $0 = error } }

    public func launch(_ spec: PipelineSpec, onExit: @escaping @Sendable (PipelineExit) -> Void) throws -> any RunningPipeline {
        if let error = failure.withLock({ $0 }) { throw error }
        if let hook = duringLaunch.withLock({ $0 }) { hook(spec) }
        let group = nextGroup.withLock { g -> Int32 in
            g += 1
            return g
        }
        let pipeline = FakePipeline(processGroup: group)
        events.withLock { e in
            launches.withLock { $0.append(Launch(spec: spec, onExit: onExit, pipeline: pipeline)) }
            e.launched.append(e.next)
            e.next += 1
        }
        if autoExit {
            DispatchQueue.global().async { onExit(PipelineExit(tap: .exited(0), target: .exited(0))) }
        }
        return pipeline
    }

    /// Ends launch `index` as if both processes exited with these statuses.
    public func exit(_ index: Int, tap: ProcessExit = .exited(0), target: ProcessExit = .exited(0)) {
        let launch = launches.withLock { $0[index] }
        events.withLock { e in
            e.exited[index] = e.next
            e.next += 1
        }
        launch.onExit(PipelineExit(tap: tap, target: target))
    }

    /// The launches that have not exited yet, optionally only those of one source.
    public func unexited(sourceID: Int64? = nil) -> [Int] {
        let (all, exited) = (self.all, order.exited)
        return all.indices.filter { index in
            exited[index] == nil
                && (sourceID.map { all[index].spec.environment["TAPLINE_SOURCE_ID"] == String($0) } ?? true)
        }
    }

    /// For each launch, its place in the launch/exit order, and its exit's place if it exited.
    public var order: (launched: [Int], exited: [Int: Int]) { events.withLock { ($0.launched, $0.exited) } }
}

public final class FakePipeline: RunningPipeline {
    public let processGroup: Int32
    private let signals = Mutex<[Int32]>([])
    public init(processGroup: Int32) { self.processGroup = processGroup }
    public func signal(_ signal: Int32) { signals.withLock { $0.append(signal) } }
    public var received: [Int32] { signals.withLock { $0 } }
}
