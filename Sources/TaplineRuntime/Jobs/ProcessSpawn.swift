import CTaplineSys

#if canImport(Glibc)
    import Glibc
#endif

/// Spawning and reaping one child process: the calls the job pipeline and discovery share.
enum ProcessSpawn {
    /// Spawns `argv` (searched in `PATH` when it has no slash) with the given standard streams,
    /// in process group `group` (0: a new group it leads), with a clean signal state and no other
    /// inherited descriptors. `role` names it in the error (`tap`, `target`).
    static func spawn(
        _ argv: [String], role: String, environment: [String], stdin: Int32, stdout: Int32, stderr: Int32,
        group: pid_t = 0, cwd: String
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

    /// Reaps `pid`; with `WNOHANG`, `nil` while it still runs.
    static func reap(_ pid: pid_t, options: Int32 = 0) -> ProcessExit? {
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
