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
        // A target that exits early must not take the daemon down with SIGPIPE when the relay
        // writes to it; the write fails with EPIPE instead. Children get default dispositions.
        signal(SIGPIPE, SIG_IGN)
    }

    /// The running executable's path (from `/proc/self/exe`).
    public static func currentExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, Int(PATH_MAX))
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A command whose first word is exactly `tapline` runs this executable itself (the
    /// built-in demo tap, its check and the JSONL target); any other command is run as written.
    /// Every spawn (jobs, checks, `--about`) resolves its command here.
    public static func resolve(_ argv: [String], selfExecutable: String = currentExecutable()) -> [String] {
        guard argv.first == "tapline" else { return argv }
        return [selfExecutable] + argv.dropFirst()
    }

    public func launch(_ spec: PipelineSpec, onExit: @escaping @Sendable (PipelineExit) -> Void) throws -> any RunningPipeline {
        var parentEnds: [Int32] = []
        var childEnds: [Int32] = []
        defer { childEnds.forEach { close($0) } }
        func makePipe() throws -> (read: Int32, write: Int32) {
            var fds: [Int32] = [0, 0]
            guard tapline_pipe_cloexec(&fds) == 0 else {
                parentEnds.forEach { close($0) }
                throw LaunchError(role: "job", command: "pipe", reason: String(cString: strerror(errno)))
            }
            return (fds[0], fds[1])
        }
        let tapOut = try makePipe(), targetIn = try makePipe(), targetOut = try makePipe()
        let tapErr = try makePipe(), targetErr = try makePipe()
        parentEnds += [tapOut.read, targetIn.write, targetOut.read, tapErr.read, targetErr.read]
        childEnds += [tapOut.write, targetIn.read, targetOut.write, tapErr.write, targetErr.write]
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(devNull) }
        let environment = spec.environment.map { "\($0.key)=\($0.value)" }
        let tapPid: pid_t
        let targetPid: pid_t
        do {
            tapPid = try ProcessSpawn.spawn(
                Self.resolve(spec.tap, selfExecutable: selfExecutable), role: "tap", environment: environment, stdin: devNull,
                stdout: tapOut.write,
                stderr: tapErr.write, group: 0, cwd: spec.workingDirectory)
        } catch {
            parentEnds.forEach { close($0) }
            throw error
        }
        do {
            targetPid = try ProcessSpawn.spawn(
                Self.resolve(spec.target, selfExecutable: selfExecutable), role: "target", environment: environment, stdin: targetIn.read,
                stdout: targetOut.write, stderr: targetErr.write, group: tapPid, cwd: spec.workingDirectory)
        } catch {
            kill(tapPid, SIGKILL)
            var status: Int32 = 0
            waitpid(tapPid, &status, 0)
            parentEnds.forEach { close($0) }
            throw error
        }
        let running = ProcessPipeline(processGroup: tapPid)
        let state = Mutex<(tap: ProcessExit?, target: ProcessExit?, relay: RelayReport?, reported: Bool)>((nil, nil, nil, false))
        // Called by each of the three as it ends; the last one reports, exactly once (two may
        // end together and both see all three done).
        let report: @Sendable () -> Void = {
            let done = state.withLock { state -> PipelineExit? in
                guard !state.reported, let tap = state.tap, let target = state.target, let relay = state.relay else { return nil }
                state.reported = true
                return PipelineExit(tap: tap, target: target, relay: relay)
            }
            if let done { onExit(done) }
        }
        let relay = SingerRelay(
            tapOut: tapOut.read, targetIn: targetIn.write, targetOut: targetOut.read, tapErr: tapErr.read,
            targetErr: targetErr.read, logPath: spec.logPath, tapPid: tapPid, limits: spec.limits)
        let thread = Thread {
            let seen = relay.run()
            state.withLock { $0.relay = seen }
            report()
        }
        thread.name = "tapline-relay"
        thread.stackSize = 1 << 20
        thread.start()
        watch(tapPid) { exit in
            state.withLock { $0.tap = exit }
            report()
        }
        watch(targetPid) { exit in
            state.withLock { $0.target = exit }
            report()
        }
        return running
    }

    /// Calls `body` once when `pid` has exited, after reaping it.
    private func watch(_ pid: pid_t, _ body: @escaping @Sendable (ProcessExit) -> Void) {
        let fd = tapline_pidfd_open(pid)
        guard fd >= 0 else {
            // No pidfd (very old kernel): fall back to a blocking wait on a utility thread.
            DispatchQueue.global(qos: .utility).async { body(ProcessSpawn.reap(pid) ?? .exited(-1)) }
            return
        }
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler {
            guard let exit = ProcessSpawn.reap(pid, options: WNOHANG) else { return }
            source.cancel()
            body(exit)
        }
        source.setCancelHandler { close(fd) }
        source.resume()
    }
}

/// A spawned pipeline's handle.
struct ProcessPipeline: RunningPipeline {
    let processGroup: Int32
    func signal(_ signal: Int32) { kill(-processGroup, signal) }
}
