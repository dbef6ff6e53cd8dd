import Foundation
import Logging
import Synchronization
import TaplineRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// `tapline serve`'s first step for `pip:` plugins: installs those not installed yet before
/// anything is served, logging pip's lines, and keeps systemd from timing the start out while pip
/// runs (`EXTEND_TIMEOUT_USEC`, and the watchdog's ping).
enum PluginStartup {
    static func resolve(
        _ configuration: TaplineConfiguration, environment: [String: String], logger: Logger
    ) throws(ConfigurationError) -> TaplineConfiguration {
        let missing = configuration.missingPlugins(environment: environment)
        guard !missing.isEmpty else { return try configuration.resolvingPlugins(.installedOnly, environment: environment).configuration }
        let notifier = SystemdNotifier(environment: environment)
        let names = missing.map(\.requirement).joined(separator: ", ")
        logger.notice("installing plugins before starting", metadata: ["plugins": "\(names)"])
        notifier.status("installing plugins: \(names)")
        let done = Atomic<Bool>(false)
        let keepAlive = Thread {
            while !done.load(ordering: .acquiring) {
                notifier.send("EXTEND_TIMEOUT_USEC=30000000\nWATCHDOG=1")
                for _ in 0..<50 where !done.load(ordering: .acquiring) { usleep(200_000) }
            }
        }
        keepAlive.start()
        defer { done.store(true, ordering: .releasing) }
        return try configuration.resolvingPlugins(
            .install(progress: { line in logger.info("\(line)", metadata: ["step": "plugin install"]) }), environment: environment
        ).configuration
    }
}
