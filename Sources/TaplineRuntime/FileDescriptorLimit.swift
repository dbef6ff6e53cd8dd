#if canImport(Glibc)
    import Glibc
#endif

/// The process's open-file limit.
///
/// Every connection and every running job (its pipes, pidfds and log) holds descriptors, and the
/// soft limit a shell hands out (often 1024) is far below what `api.max_connections` plus
/// `scheduler.max_running_jobs` need. Raising the soft limit to the hard one is always allowed
/// and is what systemd's `LimitNOFILE=` sets up front anyway.
public enum FileDescriptorLimit {
    /// Raises the soft limit to the hard limit; returns the limit now in force.
    @discardableResult
    public static func raiseToHardLimit() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return UInt64(raised.rlim_cur) }
        }
        return UInt64(limit.rlim_cur)
    }
}
