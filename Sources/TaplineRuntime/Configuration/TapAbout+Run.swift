import CTaplineSys
import Foundation
import TaplineCore

#if canImport(Glibc)
    import Glibc
#endif

extension TapAbout {
    /// Runs `tap --about --format json` and reads what it prints. The tap gets `seconds` to
    /// answer (a Python tap imports its whole SDK first); its output is capped at 8 MiB.
    static func run(_ tap: [String], environment: [String: String], seconds: Double = 60) throws(TapAboutError) -> TapAbout {
        let argv = ProcessPipelineLauncher.resolve(tap + ["--about", "--format", "json"])
        var out: [Int32] = [0, 0]
        var err: [Int32] = [0, 0]
        guard tapline_pipe_cloexec(&out) == 0 else { throw TapAboutError("cannot make a pipe: \(String(cString: strerror(errno)))") }
        guard tapline_pipe_cloexec(&err) == 0 else {
            close(out[0])
            close(out[1])
            throw TapAboutError("cannot make a pipe: \(String(cString: strerror(errno)))")
        }
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let pid: pid_t
        do {
            pid = try ProcessSpawn.spawn(
                argv, role: "tap", environment: environment.map { "\($0.key)=\($0.value)" }, stdin: devNull,
                stdout: out[1], stderr: err[1], cwd: "/")
        } catch {
            [devNull, out[0], out[1], err[0], err[1]].forEach { close($0) }
            throw TapAboutError("\(error)")
        }
        [devNull, out[1], err[1]].forEach { close($0) }
        defer { [out[0], err[0]].forEach { close($0) } }
        var stdout = [UInt8]()
        var stderr = StderrSummary()
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        var open: [Int32] = [out[0], err[0]]
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var timedOut = false
        while !open.isEmpty {
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                timedOut = true
                break
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ms = Int32(min(Double(left.components.seconds) * 1000 + 1, 60_000))
            guard poll(&fds, nfds_t(fds.count), ms) >= 0 || errno == EINTR else { break }
            for entry in fds where entry.revents != 0 {
                let n = read(entry.fd, &buffer, buffer.count)
                if n <= 0 {
                    open.removeAll { $0 == entry.fd }
                } else if entry.fd == out[0] {
                    guard stdout.count < 8 << 20 else {
                        timedOut = true
                        break
                    }
                    stdout += buffer[0..<n]
                } else {
                    stderr.take(buffer[0..<n])
                }
            }
            if timedOut { break }
        }
        if timedOut { kill(pid, SIGKILL) }
        let exit = ProcessSpawn.reap(pid) ?? .exited(-1)
        let command = argv.joined(separator: " ")
        if timedOut { throw TapAboutError("\(command) did not answer within \(Int(seconds)) s (or printed more than 8 MiB)") }
        guard exit.succeeded else {
            throw TapAboutError("\(command) \(exit.description)\(stderr.cause.map { ": \($0)" } ?? "")")
        }
        do throws(TapAboutError) {
            return try TapAbout.parse(Data(stdout))
        } catch {
            throw TapAboutError("\(command): \(error.description)")
        }
    }
}

extension TaplineConfiguration {
    /// The configuration with every self-describing source type (`about: true`) given the
    /// settings its tap declares. A tap that cannot describe itself is a configuration error
    /// naming the type, so a daemon never starts with a type whose form is unknown.
    public func describingTaps(environment: [String: String]) throws(ConfigurationError) -> TaplineConfiguration {
        var result = self
        for (i, type) in sourceTypes.enumerated() where type.describesItself {
            do throws(TapAboutError) {
                let about = try TapAbout.run(type.tapCommand, environment: environment)
                result.sourceTypes[i] = type.describing(with: about, discoveryDeclared: type.discoveryDeclared)
            } catch {
                throw ConfigurationError("source type \(type.type) (about: true): \(error.description)")
            }
        }
        return result
    }
}
