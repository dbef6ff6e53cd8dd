import CTaplineSys
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's side of its job guard (`JobGuard`, `JobGuardWatch`): starts the guard process
/// and tells it, at each renewal of the node's lease, when the node would fence.
///
/// One line per renewal on a pipe, `fence <seconds>` on the monotonic clock both processes
/// read. The pipe's write end is the daemon's alone (close-on-exec, and jobs inherit no other
/// descriptor), so the guard sees it close when the daemon ends, however it ends.
public final class JobGuardLink: Sendable {
    /// Set as `TAPLINE_GUARD` on every job process of this daemon's life.
    public let token: String
    let pid: pid_t
    private let output: Int32
    private let logger: Logger
    private let warned = Synchronization.Atomic<Bool>(false)

    /// Starts `executable job-guard` (this binary), its standard input the pipe's read end.
    public init(executable: String, grace: Double, logger: Logger) throws {
        token = UUID().uuidString.lowercased()
        self.logger = logger
        var ends: [Int32] = [-1, -1]
        guard tapline_pipe_cloexec(&ends) == 0 else {
            throw LaunchError(role: "job guard", command: executable, reason: String(cString: strerror(errno)))
        }
        defer { Glibc.close(ends[0]) }
        do {
            pid = try ProcessSpawn.spawn(
                [executable, "job-guard", "--token", token, "--grace", String(grace)], role: "job guard",
                environment: ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }, stdin: ends[0], stdout: 2,
                stderr: 2, cwd: "/")
        } catch {
            Glibc.close(ends[1])
            throw error
        }
        output = ends[1]
    }

    /// Tells the guard the node fences at `fenceAt` (monotonic seconds) unless told again.
    public func fence(at fenceAt: Double) {
        let line = Array("fence \(String(format: "%.6f", fenceAt))\n".utf8)
        let written = line.withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
        guard written != line.count else { return }
        // The guard is gone (EPIPE; SIGPIPE is ignored by the daemon): jobs then outlive a
        // frozen daemon as they would without it. Said once.
        if !warned.exchange(true, ordering: .relaxed) {
            logger.error(
                "the job guard is not running: a frozen node's jobs would outlive its lease",
                metadata: ["guard.pid": "\(pid)", "error": "\(String(cString: strerror(errno)))"])
        }
    }

    /// `fence <seconds>` as the guard reads it.
    public static func parse(_ line: String) -> Double? {
        let parts = line.split(separator: " ")
        guard parts.count == 2, parts[0] == "fence", let value = Double(parts[1]), value.isFinite else { return nil }
        return value
    }

    deinit { Glibc.close(output) }
}
