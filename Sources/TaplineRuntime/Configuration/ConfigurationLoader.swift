/// Applies the layers of configuration in order: embedded defaults, the file, the environment,
/// the command-line flags. The result has every path absolute (see `resolvingPaths`).
public enum ConfigurationLoader {
    /// The environment variables that override the keys operators change per host.
    public static let listenVariable = "TAPLINE_LISTEN"
    public static let stateDirectoryVariable = "TAPLINE_STATE_DIR"
    public static let tokenFileVariable = "TAPLINE_TOKEN_FILE"

    /// `describeTaps: false` skips resolving `pip:` plugins and running self-describing taps
    /// (`about: true`): for clients of the API, which need only the addresses and paths. With
    /// `true`, plugins not installed yet are installed when `plugins` says so (the daemon), else
    /// left out of the description (see `TaplineConfiguration.resolvingPlugins`).
    public static func load(
        path: String?, listen: String?, stateDirectory: String?, environment: [String: String],
        describeTaps: Bool = true, plugins: TaplineConfiguration.PluginResolution = .installedOnly
    ) throws(ConfigurationError) -> TaplineConfiguration {
        try loadNoting(
            path: path, listen: listen, stateDirectory: stateDirectory, environment: environment, describeTaps: describeTaps,
            plugins: plugins
        ).configuration
    }

    /// `load`, with the notes on plugins that are not installed.
    public static func loadNoting(
        path: String?, listen: String?, stateDirectory: String?, environment: [String: String],
        describeTaps: Bool = true, plugins: TaplineConfiguration.PluginResolution = .installedOnly
    ) throws(ConfigurationError) -> (configuration: TaplineConfiguration, notes: [String]) {
        var config =
            try path.map { p throws(ConfigurationError) in try TaplineConfiguration.load(path: p) }
            ?? TaplineConfiguration()
        if let value = environment[listenVariable], !value.isEmpty {
            config.listen = try ListenAddress.parse(value, origin: listenVariable)
        }
        if let value = environment[stateDirectoryVariable], !value.isEmpty { config.stateDirectory = value }
        if let value = environment[tokenFileVariable], !value.isEmpty { config.tokenFile = value }
        if let listen { config.listen = try ListenAddress.parse(listen, origin: "--listen") }
        if let stateDirectory {
            guard !stateDirectory.isEmpty else { throw ConfigurationError("--state-dir: must not be empty") }
            config.stateDirectory = stateDirectory
        }
        let resolved = config.resolvingPaths(environment: environment)
        guard describeTaps else { return (resolved, []) }
        let withPlugins = try resolved.resolvingPlugins(plugins, environment: environment)
        return (try withPlugins.configuration.describingTaps(environment: environment), withPlugins.notes)
    }
}
