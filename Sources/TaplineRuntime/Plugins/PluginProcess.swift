import CTaplineSys
import Foundation
import TaplineCore

#if canImport(Glibc)
    import Glibc
#endif

/// One step of a plugin install (`python -m venv`, `pip install`, the inspection), run as a child
/// process in a group of its own with its output read line by line.
enum PluginProcess {
    struct Result {
        var exit: ProcessExit
        /// Every line it wrote to standard output and standard error, in order, the last
        /// `keptLines` of them.
        var lines: [String]
        var timedOut: Bool
    }

    static let keptLines = 200

    /// Runs `argv` until it ends or `deadline` passes (then its whole group is killed), handing
    /// each line of its output to `onLine` as it arrives.
    static func run(
        _ argv: [String], environment: [String: String], deadline: ContinuousClock.Instant, onLine: (String) -> Void
    ) throws(PluginInstallError) -> Result {
        var pipe: [Int32] = [0, 0]
        guard tapline_pipe_cloexec(&pipe) == 0 else {
            throw PluginInstallError("cannot make a pipe: \(String(cString: strerror(errno)))")
        }
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let pid: pid_t
        do {
            pid = try ProcessSpawn.spawn(
                argv, role: "plugin install", environment: environment.map { "\($0.key)=\($0.value)" }, stdin: devNull,
                stdout: pipe[1], stderr: pipe[1], cwd: "/")
        } catch {
            [devNull, pipe[0], pipe[1]].forEach { close($0) }
            throw PluginInstallError("cannot run \(argv[0]): \(error)")
        }
        [devNull, pipe[1]].forEach { close($0) }
        defer { close(pipe[0]) }
        var framer = LineFramer(maxLineBytes: 64 * 1024, overflow: .split)
        var lines: [String] = []
        func take(_ line: String) {
            onLine(line)
            lines.append(line)
            if lines.count > keptLines { lines.removeFirst(lines.count - keptLines) }
        }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var timedOut = false
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                timedOut = true
                break
            }
            var entry = pollfd(fd: pipe[0], events: Int16(POLLIN), revents: 0)
            let ms = Int32(min(Double(left.components.seconds) * 1000 + 1, 1000))
            let ready = poll(&entry, 1, ms)
            if ready < 0, errno != EINTR { break }
            guard ready > 0 else { continue }
            let n = read(pipe[0], &buffer, buffer.count)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            framer.feed(buffer[0..<n]) { take(String(decoding: $0, as: UTF8.self)) }
        }
        framer.finish { take(String(decoding: $0, as: UTF8.self)) }
        if timedOut { kill(-pid, SIGKILL) }
        let exit = ProcessSpawn.reap(pid) ?? .exited(-1)
        return Result(exit: exit, lines: lines, timedOut: timedOut)
    }
}
