import CTaplineSys
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Spawns `tap | target` with `posix_spawn`: a fresh process group led by the tap, an empty
/// signal mask and default dispositions (so SIGTERM and SIGPIPE work whatever the daemon blocks),
/// every descriptor but stdin/stdout/stderr closed. Exits are watched through pidfds on a Dispatch
/// queue, so no thread blocks in `waitpid`.
public final class ProcessPipelineLauncher: PipelineLauncher {
    private let queue = DispatchQueue(label: "tapline.processes")
    /// `argv[0]` of exactly `tapline` runs this executable itself (the built-in demo tap and target).
    private let selfExecutable: String

    public init(selfExecutable: String = ProcessPipelineLauncher.currentExecutable()) {
        self.selfExecutable = selfExecutable
    }

    /// The running executable's path (from `/proc/self/exe`).
    public static func currentExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, Int(PATH_MAX))
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func launch(_ spec: PipelineSpec, onExit: @escaping @Sendable (PipelineExit) -> Void) throws -> any RunningPipeline {
        let log = open(spec.logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard log >= 0 else { throw LaunchError(role: "job", command: spec.logPath, reason: String(cString: strerror(errno))) }
        defer { close(log) }
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(devNull) }
        var fds: [Int32] = [0, 0]
        guard tapline_pipe_cloexec(&fds) == 0 else {
            throw LaunchError(role: "job", command: "pipe", reason: String(cString: strerror(errno)))
        }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        defer {
            close(readEnd)
            close(writeEnd)
        }
        let environment = spec.environment.map { "\($0.key)=\($0.value)" }
        let tapPid = try spawn(resolve(spec.tap), role: "tap", environment: environment, stdin: devNull, stdout: writeEnd, stderr: log, group: 0, cwd: spec.workingDirectory)
        let targetPid: pid_t
        do {
            targetPid = try spawn(resolve(spec.target), role: "target", environment: environment, stdin: readEnd, stdout: log, stderr: log, group: tapPid, cwd: spec.workingDirectory)
        } catch {
            kill(tapPid, SIGKILL)
            var status: Int32 = 0
            waitpid(tapPid, &status, 0)
            throw error
        }
        let running = ProcessPipeline(processGroup: tapPid)
        let exits = Mutex<(tap: ProcessExit?, target: ProcessExit?)>((nil, nil))
        let report: @Sendable () -> Void = {
            let done = exits.withLock { state -> PipelineExit? in
                guard let tap = state.tap, let target = state.target else { return nil }
                return PipelineExit(tap: tap, target: target)
            }
            if let done { onExit(done) }
        }
        watch(tapPid) { exit in
            exits.withLock { $0.tap = exit }
            report()
        }
        watch(targetPid) { exit in
            exits.withLock { $0.target = exit }
            report()
        }
        return running
    }

    private func resolve(_ argv: [String]) -> [String] {
        guard argv.first == "tapline" else { return argv }
        return [selfExecutable] + argv.dropFirst()
    }

    private func spawn(
        _ argv: [String], role: String, environment: [String], stdin: Int32, stdout: Int32, stderr: Int32, group: pid_t,
        cwd: String
    ) throws -> pid_t {
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup($0) } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        let rc = tapline_spawn(&pid, argv[0], cArgs, cEnv, stdin, stdout, stderr, group, cwd)
        guard rc == 0 else {
            throw LaunchError(role: role, command: argv[0], reason: String(cString: strerror(rc)))
        }
        return pid
    }

    /// Calls `body` once when `pid` has exited, after reaping it.
    private func watch(_ pid: pid_t, _ body: @escaping @Sendable (ProcessExit) -> Void) {
        let fd = tapline_pidfd_open(pid)
        guard fd >= 0 else {
            // No pidfd (very old kernel): fall back to a blocking wait on a utility thread.
            DispatchQueue.global(qos: .utility).async { body(Self.reap(pid, options: 0) ?? .exited(-1)) }
            return
        }
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler {
            guard let exit = Self.reap(pid, options: WNOHANG) else { return }
            source.cancel()
            body(exit)
        }
        source.setCancelHandler { close(fd) }
        source.resume()
    }

    private static func reap(_ pid: pid_t, options: Int32) -> ProcessExit? {
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, options)
            if r == pid { break }
            if r == 0 { return nil }
            if r < 0, errno == EINTR { continue }
            return .exited(-1)
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, written out (they are macros in C).
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
    }
}

/// A spawned pipeline's handle.
struct ProcessPipeline: RunningPipeline {
    let processGroup: Int32
    func signal(_ signal: Int32) { kill(-processGroup, signal) }
}
