#if canImport(Glibc)
    import Glibc
#endif

/// A parent that spawned tapline from a worker thread may have left SIGTERM, SIGINT and SIGHUP
/// blocked in the inherited signal mask; systemd's stop (or Ctrl-C) would then do nothing.
/// Unblocking them first thing makes graceful shutdown independent of who started us.
enum SignalMask {
    static func unblockTerminationSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}
