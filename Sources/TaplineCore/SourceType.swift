/// A kind of source an operator offers: which properties it takes and how its jobs run.
///
/// Source types come from the configuration file; API callers only choose one by name and fill
/// in its properties, so no API call can choose what tapline executes.
public struct SourceType: Sendable, Hashable {
    /// The Stitch type name, e.g. `platform.demo`.
    public var type: String
    /// A human-readable name for listings.
    public var displayName: String
    /// The connection properties callers may set (scheduling properties are implicit).
    public var properties: [PropertySpec]
    /// `frequency_in_minutes` when a source sets none.
    public var defaultFrequencyMinutes: Int
    /// The frequencies this type accepts (a subset of `Frequency.allowedMinutes`).
    public var allowedFrequencies: [Int]
    /// Whether jobs run discovery (`--discover`) first; it adds the `discover_schema` and
    /// `field_selection` steps to the report card.
    public var supportsDiscovery: Bool
    /// The tap's argument vector. Never a shell string.
    public var tapCommand: [String]
    /// For a type without discovery: the connection check's argument vector, run with
    /// `--config <tap-config.json>` appended; exit status 0 means the source's settings work.
    /// (A type with discovery is checked by `tap --discover`.)
    public var checkCommand: [String]?
    /// How long a job of this type may run before it is stopped and fails; `nil`: the
    /// configuration's `jobs.timeout_seconds`; 0: no limit.
    public var timeoutSeconds: Double?
    /// Report-card details.
    public var defaultStartDate: String?
    public var pipelineState: String
    /// The tap describes its settings itself (`--about --format json`, as Meltano SDK taps do):
    /// its settings become properties when the configuration is loaded.
    public var describesItself: Bool
    /// Whether the configuration said `discovery:` (else a self-describing tap's capabilities
    /// decide).
    public var discoveryDeclared: Bool
    /// The Python package the tap is installed from (`pip:`); `nil`: `tapCommand` names an
    /// executable the operator installed. Until the plugin is resolved (see
    /// `TaplineConfiguration.resolvingPlugins`), `tapCommand` holds only its executable's name.
    public var plugin: PluginRequirement?
    /// Whether the configuration said `about:` (else a plugin built on the Meltano SDK
    /// describes itself and others do not).
    public var aboutDeclared: Bool

    public init(
        type: String, displayName: String, properties: [PropertySpec] = [],
        defaultFrequencyMinutes: Int = 60, allowedFrequencies: [Int] = Frequency.allowedMinutes,
        supportsDiscovery: Bool = false, tapCommand: [String], defaultStartDate: String? = nil,
        pipelineState: String = "released", describesItself: Bool = false, discoveryDeclared: Bool = true,
        checkCommand: [String]? = nil, timeoutSeconds: Double? = nil, plugin: PluginRequirement? = nil,
        aboutDeclared: Bool = true
    ) {
        self.plugin = plugin
        self.aboutDeclared = aboutDeclared
        self.timeoutSeconds = timeoutSeconds
        self.checkCommand = checkCommand
        self.describesItself = describesItself
        self.discoveryDeclared = discoveryDeclared
        self.type = type
        self.displayName = displayName
        self.properties = properties
        self.defaultFrequencyMinutes = defaultFrequencyMinutes
        self.allowedFrequencies = allowedFrequencies
        self.supportsDiscovery = supportsDiscovery
        self.tapCommand = tapCommand
        self.defaultStartDate = defaultStartDate
        self.pipelineState = pipelineState
    }

    /// Whether sources of this type get connection checks (discovery, or a declared check).
    public var hasConnectionCheck: Bool { supportsDiscovery || checkCommand != nil }

    public func property(named name: String) -> PropertySpec? {
        properties.first { $0.name == name }
    }

    /// The names of properties that hold secrets: stored apart, never returned or logged.
    public var credentialNames: Set<String> {
        Set(properties.filter(\.isCredential).map(\.name))
    }
}

/// One connection property of a source type.
public struct PropertySpec: Sendable, Hashable {
    public enum Format: String, Sendable, Hashable {
        /// An ISO 8601 date-time.
        case dateTime = "date-time"
    }

    public var name: String
    public var isRequired: Bool
    public var isCredential: Bool
    /// A regular expression the value must match, with JSON-schema semantics: it may match
    /// anywhere unless anchored with `^` and `$`.
    public var pattern: String?
    public var format: Format?
    /// Used by jobs when the source sets no value; never shown as if the user had set it.
    public var defaultValue: String?
    /// The type of the value in the tap's configuration file. The wire value is always a
    /// string; it must be readable as this type, and the tap gets the typed value.
    public var valueType: PropertyValueType
    /// A human-readable description (from the configuration or the tap's `--about`).
    public var summary: String?

    public init(
        name: String, isRequired: Bool = false, isCredential: Bool = false, pattern: String? = nil,
        format: Format? = nil, defaultValue: String? = nil, valueType: PropertyValueType = .string,
        summary: String? = nil
    ) {
        self.name = name
        self.isRequired = isRequired
        self.isCredential = isCredential
        self.pattern = pattern
        self.format = format
        self.defaultValue = defaultValue
        self.valueType = valueType
        self.summary = summary
    }

    /// The typed value that goes into the tap's configuration for a stored string; a value
    /// stored before its type was declared stays a string rather than being dropped.
    public func configurationValue(_ text: String) -> JSONValue {
        valueType.value(of: text) ?? .string(text)
    }
}

/// The configured source types, by type name.
public struct SourceTypeCatalog: Sendable {
    public private(set) var types: [String: SourceType]

    public init(_ types: [SourceType]) {
        self.types = Dictionary(types.map { ($0.type, $0) }, uniquingKeysWith: { _, last in last })
    }

    public subscript(type: String) -> SourceType? { types[type] }

    /// Types in a stable order (by name), for listings.
    public var sorted: [SourceType] { types.values.sorted { $0.type < $1.type } }
}
