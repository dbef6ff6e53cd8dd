import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension TaplineConfiguration {
    /// `path` as an absolute path: relative paths are taken from `directory` (the directory
    /// tapline was started in when not given).
    ///
    /// Every path is made absolute once, when the configuration is loaded: jobs run in a working
    /// directory of their own, so a relative path handed to a tap or a target (its `--config`
    /// file, a destination directory) would otherwise name a different file for each process.
    public static func absolute(_ path: String, in directory: String? = nil) -> String {
        guard !path.hasPrefix("/") else { return (path as NSString).standardizingPath }
        let base = directory ?? currentDirectory()
        return ((base as NSString).appendingPathComponent(path) as NSString).standardizingPath
    }

    /// The process's current directory, from `getcwd` (Foundation's caches a value).
    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The configuration with every path absolute and every default that depends on the
    /// environment applied (`$STATE_DIRECTORY`, `$RUNTIME_DIRECTORY`): what a running daemon and
    /// its jobs use, so no later change of directory can change what a path names.
    public func resolvingPaths(environment: [String: String]) -> TaplineConfiguration {
        var resolved = self
        let state = resolvedStateDirectory(environment: environment)
        resolved.stateDirectory = state
        resolved.database = resolvedDatabase(environment: environment)
        resolved.tokenFile = tokenFile.map { Self.absolute($0) }
        resolved.cluster?.passwordFile = cluster?.resolvedPasswordFile(environment: environment).map { Self.absolute($0) }
        resolved.credentialsKeyFile = credentialsKeyFile.map { Self.absolute($0) }
        resolved.jobsDirectory = resolvedJobsDirectory(stateDirectory: state, environment: environment) ?? state + "/jobs"
        resolved.workingDirectory = workingDirectory.map { Self.absolute($0) } ?? state + "/work"
        for i in resolved.notifications.webhooks.indices {
            switch resolved.notifications.webhooks[i].secret {
            case .file(let path): resolved.notifications.webhooks[i].secret = .file(Self.absolute(path))
            case .credential(let name):
                if let directory = environment["CREDENTIALS_DIRECTORY"] {
                    resolved.notifications.webhooks[i].secret = .file((directory as NSString).appendingPathComponent(name))
                }
            }
        }
        return resolved
    }
}
