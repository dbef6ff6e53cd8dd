import Foundation

/// What a job runs: a tap feeding a target, with their files, environment and log.
public struct PipelineSpec: Sendable {
    public var tap: [String]
    public var target: [String]
    public var environment: [String: String]
    /// The processes' current directory: the shared working directory, which outlives the job
    /// (the job's files are passed by absolute path from its private directory).
    public var workingDirectory: String
    /// Where both processes' stderr and the target's confirmed states go (Stitch's log format).
    public var logPath: String
    /// How long a line and how large the log may get.
    public var limits: RelayLimits

    public init(
        tap: [String], target: [String], environment: [String: String], workingDirectory: String, logPath: String,
        limits: RelayLimits = RelayLimits()
    ) {
        self.limits = limits
        self.tap = tap
        self.target = target
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.logPath = logPath
    }
}

/// How one process of a pipeline ended.
public enum ProcessExit: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)

    /// The status as Stitch records it: the exit code, or 128 + signal as shells report it.
    public var code: Int {
        switch self {
        case .exited(let c): Int(c)
        case .signaled(let s): 128 + Int(s)
        }
    }

    public var succeeded: Bool { self == .exited(0) }

    public var description: String {
        switch self {
        case .exited(let c): "exited with status \(c)"
        case .signaled(let s): "killed by signal \(s)"
        }
    }
}

/// How a whole pipeline ended, and what its relay saw.
public struct PipelineExit: Sendable, Equatable {
    public var tap: ProcessExit
    public var target: ProcessExit
    public var relay: RelayReport
    public init(tap: ProcessExit, target: ProcessExit, relay: RelayReport = RelayReport()) {
        self.tap = tap
        self.target = target
        self.relay = relay
    }
}

/// A pipeline could not be started.
public struct LaunchError: Error, Sendable, CustomStringConvertible {
    /// Which command (`tap` or `target`).
    public var role: String
    public var command: String
    public var reason: String
    public var description: String { "cannot execute the \(role) \(command): \(reason)" }
}

/// A started pipeline: both processes share one process group, so one signal reaches both.
public protocol RunningPipeline: Sendable {
    var processGroup: Int32 { get }
    /// Sends `signal` to the whole process group.
    func signal(_ signal: Int32)
}

/// Starts pipelines. The real one spawns processes; tests use a fake.
public protocol PipelineLauncher: Sendable {
    /// Starts `spec`; `onExit` is called once, on any thread, when both processes have ended.
    func launch(_ spec: PipelineSpec, onExit: @escaping @Sendable (PipelineExit) -> Void) throws -> any RunningPipeline
}
