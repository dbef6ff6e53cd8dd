import ArgumentParser
import Foundation
import Logging
import TaplineRuntime
import TaplineService

/// `tapline serve`: run the daemon in the foreground (systemd runs it this way too).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon: the HTTP API and the scheduler.",
        discussion: """
            Settings come from the embedded defaults, then the configuration file, then the environment
            (TAPLINE_LISTEN, TAPLINE_STATE_DIR, TAPLINE_TOKEN_FILE), then these flags.
            """)

    @Option(name: .long, help: "A YAML configuration file (see config/tapline.yaml).")
    var config: String?

    @Option(name: .long, help: "Listen on HOST:PORT (default 127.0.0.1:8080; port 0 picks a free port).")
    var listen: String?

    @Option(name: .customLong("state-dir"), help: "State directory: database, token, logs (default ./.tapline).")
    var stateDir: String?

    func run() async throws {
        SignalMask.unblockTerminationSignals()
        let environment = ProcessInfo.processInfo.environment
        let loaded: TaplineConfiguration
        do {
            loaded = try ConfigurationLoader.load(
                path: config, listen: listen, stateDirectory: stateDir, environment: environment, describeTaps: false)
        } catch {
            throw ValidationError(error.description)
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = loaded.logLevel
            return handler
        }
        let logger = Logger(label: "tapline")
        let configuration: TaplineConfiguration
        do {
            configuration = try PluginStartup.resolve(loaded, environment: environment, logger: logger)
                .describingTaps(environment: environment)
        } catch {
            throw ValidationError(error.description)
        }
        let descriptors = FileDescriptorLimit.raiseToHardLimit()
        let needed = UInt64(configuration.http.maxConnections + 8 * configuration.scheduler.maxRunningJobs + 64)
        if descriptors < needed {
            logger.warning(
                "the open-file limit is below what the configured connections and running jobs can need",
                metadata: ["limit": "\(descriptors)", "needed": "\(needed)"])
        }
        let daemon: Daemon
        do {
            daemon = try await Daemon.make(configuration: configuration, logger: logger)
        } catch {
            logger.critical("tapline cannot start", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        do {
            try await daemon.run()
        } catch {
            logger.critical("tapline stopped on an error", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}
