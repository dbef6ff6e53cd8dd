/// The configuration steps of a Stitch report card, in the order a source goes through them.
public enum ConfigurationStep: String, Sendable, CaseIterable {
    case form
    case discoverSchema = "discover_schema"
    case fieldSelection = "field_selection"
    case fullyConfigured = "fully_configured"

    /// The steps a source of `type` goes through.
    public static func steps(for type: SourceType) -> [ConfigurationStep] {
        type.supportsDiscovery ? [.form, .discoverSchema, .fieldSelection, .fullyConfigured] : [.form, .fullyConfigured]
    }

    /// The step a source is at. The form is complete once every required property has a value;
    /// a type with discovery then needs a successful check and a stream selection.
    public static func current(
        for type: SourceType, providedProperties: Set<String>, discovered: Bool = false, streamsSelected: Bool = false
    ) -> ConfigurationStep {
        let formComplete = type.properties.allSatisfy { !$0.isRequired || providedProperties.contains($0.name) }
        guard formComplete else { return .form }
        guard type.supportsDiscovery else { return .fullyConfigured }
        if !discovered { return .discoverSchema }
        if !streamsSelected { return .fieldSelection }
        return .fullyConfigured
    }
}
