import TaplineCore
import TaplineStoreContract

/// Stitch report cards: a source's (or a source type's) configuration steps and form properties.
enum ReportCardWire {
    /// The report card of one source: its current step and which properties it has provided.
    static func forSource(_ source: SourceRecord, type: SourceType?) -> WireJSON {
        guard let type else {
            // The type is gone from the configuration: the source cannot get past the form.
            return .object([
                ("type", .string(source.type)), ("current_step", .int(0)), ("current_step_type", .string("form")),
                ("steps", .array([.object([("type", .string("form")), ("properties", .array([]))])])),
            ])
        }
        let provided = source.providedProperties
        return card(type: type, current: source.configurationStep(type: type), provided: provided, details: false)
    }

    /// The report card of a source type (`GET /v4/source-types`), with its details.
    static func forType(_ type: SourceType) -> WireJSON {
        card(type: type, current: .form, provided: [], details: true)
    }

    private static func card(type: SourceType, current: ConfigurationStep, provided: Set<String>, details: Bool)
        -> WireJSON
    {
        let steps = ConfigurationStep.steps(for: type)
        let index = steps.firstIndex(of: current) ?? 0
        var members: [(String, WireJSON)] = [
            ("type", .string(type.type)),
            ("current_step", .int(Int64(index))),
            ("current_step_type", .string(current.rawValue)),
            (
                "steps",
                .array(
                    steps.map { step in
                        .object([
                            ("type", .string(step.rawValue)),
                            ("properties", .array(step == .form ? formProperties(type, provided: provided) : [])),
                        ])
                    })
            ),
        ]
        if details {
            members.append(
                (
                    "details",
                    .object([
                        ("access", .bool(true)),
                        ("default_scheduling_interval", .int(Int64(type.defaultFrequencyMinutes))),
                        ("pricing_tier", .string("standard")),
                        ("default_start_date", .optional(type.defaultStartDate)),
                        ("pipeline_state", .string(type.pipelineState)),
                        ("protocol", .string(type.type)),
                    ])
                ))
        }
        return .object(members)
    }

    /// The form's property objects: the type's own properties, then the scheduling ones.
    private static func formProperties(_ type: SourceType, provided: Set<String>) -> [WireJSON] {
        var result = type.properties.map { formProperty($0, provided: provided.contains($0.name)) }
        result.append(
            property(
                SchedulingProperty.frequency, required: false, credential: false,
                schema: .object([
                    ("type", .string("string")), ("pattern", .string(Frequency.pattern(allowed: type.allowedFrequencies))),
                ]),
                provided: provided.contains(SchedulingProperty.frequency)))
        result.append(
            property(
                SchedulingProperty.anchorTime, required: false, credential: false,
                schema: .object([("type", .string("string")), ("format", .string("date-time"))]),
                provided: provided.contains(SchedulingProperty.anchorTime)))
        result.append(
            property(
                SchedulingProperty.cronExpression, required: false, credential: false, schema: .null,
                provided: provided.contains(SchedulingProperty.cronExpression)))
        return result
    }

    /// A destination's (or destination type's) report card: its form and whether it is complete.
    static func forDestination(_ type: DestinationType, provided: Set<String>?) -> WireJSON {
        let complete = provided.map { type.missingRequired($0).isEmpty } ?? false
        let form = type.properties.map { formProperty($0, provided: provided?.contains($0.name) ?? false) }
        return .object([
            ("type", .string(type.stitchType)),
            ("current_step", .int(complete ? 1 : 0)),
            ("current_step_type", .string(complete ? "fully_configured" : "form")),
            (
                "steps",
                .array([
                    .object([("type", .string("form")), ("properties", .array(form))]),
                    .object([("type", .string("fully_configured")), ("properties", .array([]))]),
                ])
            ),
            (
                "details",
                .object([
                    ("pricing_tier", .string("standard")), ("pipeline_state", .string("released")),
                    ("default_scheduling_interval", .null), ("default_start_date", .null), ("protocol", .string(type.type)),
                ])
            ),
        ])
    }

    /// A declared property as a form property: its value is a string on the wire.
    private static func formProperty(_ spec: PropertySpec, provided: Bool) -> WireJSON {
        var schema: [(String, WireJSON)] = [("type", .string("string"))]
        if let pattern = spec.pattern { schema.append(("pattern", .string(pattern))) }
        if let format = spec.format { schema.append(("format", .string(format.rawValue))) }
        return property(spec.name, required: spec.isRequired, credential: spec.isCredential, schema: .object(schema), provided: provided)
    }

    private static func property(_ name: String, required: Bool, credential: Bool, schema: WireJSON, provided: Bool)
        -> WireJSON
    {
        .object([
            ("name", .string(name)),
            ("is_required", .bool(required)),
            ("is_credential", .bool(credential)),
            ("system_provided", .bool(false)),
            ("property_type", .string("user_provided")),
            ("json_schema", schema),
            ("provided", .bool(provided)),
            ("tap_mutable", .bool(false)),
        ])
    }
}
