import Foundation
import Hummingbird
import TaplineAPI
import TaplineCore
import TaplineStoreContract

/// Adding and editing a source from its type's report card: one field per property, of the
/// property's kind; credentials as password fields that are never filled back in; the API's own
/// validation, with its messages beside the fields they name.
extension Console {
    struct FieldModel {
        var name: String
        var inputName: String
        var label: String
        var inputType: String
        var required: Bool
        var isCredential: Bool
        var isBoolean: Bool
        var isTrue: Bool
        var isFalse: Bool
        var value: String
        var isSet: Bool
        var help: String?
        var error: String?
        var canClear: Bool
    }

    struct TypeOption {
        var type: String
        var label: String
    }

    struct FormModel {
        var creating: Bool
        var title: String
        var action: String
        var type: String?
        var typeLabel: String?
        var types: [TypeOption]
        var chooseType: Bool
        var displayName: String
        var displayNameError: String?
        var fields: [FieldModel]
        var formError: String?
        var csrf: String
        var cancel: String
    }

    @Sendable func newSourcePage(request: Request, context: TaplineRequestContext) async throws -> Response {
        let session = try viewer(request)
        guard !session.identity.readOnly else {
            throw ConsoleError.forbidden("the token '\(session.identity.name)' is read-only: it cannot add sources")
        }
        let typeName = Self.query(request)["type"].flatMap { api.catalog[$0] == nil ? nil : $0 }
        let model = formModel(
            creating: true, typeName: typeName, record: nil, fields: FormFields([]), bad: [], error: nil, session: session)
        return .page(renderer.page("sourceform", model, layout: await layout(model.title, session: session)))
    }

    @Sendable func createSource(request: Request, context: TaplineRequestContext) async throws -> Response {
        let fields = try await Self.form(request)
        let session = try changer(request, fields: fields)
        guard let typeName = fields["type"], let type = api.catalog[typeName] else {
            throw ConsoleError.badRequest("unknown source type \(fields["type"] ?? "(none)")")
        }
        var properties: [String: JSONValue] = [:]
        for spec in Self.formProperties(type) {
            let value = fields["p.\(spec.name)"] ?? ""
            if !value.isEmpty { properties[spec.name] = .string(value) }
        }
        let body: [String: JSONValue] = [
            "type": .string(typeName), "display_name": .string(fields["display_name"] ?? ""), "properties": .object(properties),
        ]
        do {
            let new = try SourceRequests.create(body, catalog: api.catalog)
            let record = try await store.createSource(new, actor: Actor(session.identity.name), now: api.now())
            overviews.invalidate()
            feed.signal()
            sessions.setFlash(id: session.id, "Created \(record.displayName) (source \(record.id)).")
            return .redirect("/ui/sources/\(record.id)")
        } catch let error as SourceError {
            return await refusedForm(error, creating: true, typeName: typeName, record: nil, fields: fields, session: session)
        }
    }

    @Sendable func editSourcePage(request: Request, context: TaplineRequestContext) async throws -> Response {
        let session = try viewer(request)
        guard !session.identity.readOnly else {
            throw ConsoleError.forbidden("the token '\(session.identity.name)' is read-only: it cannot edit sources")
        }
        let id = try Self.sourceID(context)
        guard let record = try await store.source(id: id), record.deletedAt == nil else {
            throw ConsoleError.notFound("there is no source \(id) (or it was deleted)")
        }
        let model = formModel(
            creating: false, typeName: record.type, record: record, fields: FormFields([]), bad: [], error: nil, session: session)
        return .page(renderer.page("sourceform", model, layout: await layout(model.title, session: session)))
    }

    @Sendable func updateSource(request: Request, context: TaplineRequestContext) async throws -> Response {
        let fields = try await Self.form(request)
        let session = try changer(request, fields: fields)
        let id = try Self.sourceID(context)
        guard let record = try await store.source(id: id), record.deletedAt == nil else {
            throw ConsoleError.notFound("there is no source \(id) (or it was deleted)")
        }
        guard let type = api.catalog[record.type] else { throw ConsoleError.badRequest("source type \(record.type) is not configured") }
        var properties: [String: JSONValue] = [:]
        let clear = Set(fields.all("clear"))
        let current = Self.currentValues(record)
        for spec in Self.formProperties(type) {
            if clear.contains(spec.name) {
                if record.providedProperties.contains(spec.name) { properties[spec.name] = .null }
                continue
            }
            let value = fields["p.\(spec.name)"] ?? ""
            // Blank keeps what is there (a credential is never shown, so blank is "unchanged").
            if !value.isEmpty, value != current[spec.name] { properties[spec.name] = .string(value) }
        }
        var body: [String: JSONValue] = [:]
        if let name = fields["display_name"], name != record.displayName { body["display_name"] = .string(name) }
        if !properties.isEmpty { body["properties"] = .object(properties) }
        guard !body.isEmpty else {
            sessions.setFlash(id: session.id, "Nothing was changed.")
            return .redirect("/ui/sources/\(id)")
        }
        do {
            let shape = try SourceRequests.updateShape(body)
            var patch = shape.patch
            if let properties = shape.properties { patch.changes = try type.validate(properties: properties) }
            _ = try await store.updateSource(id: id, patch: patch, actor: Actor(session.identity.name), now: api.now())
            overviews.invalidate()
            feed.signal()
            sessions.setFlash(id: session.id, "Saved.")
            return .redirect("/ui/sources/\(id)")
        } catch let error as SourceError {
            return await refusedForm(error, creating: false, typeName: record.type, record: record, fields: fields, session: session)
        }
    }

    private func refusedForm(
        _ error: SourceError, creating: Bool, typeName: String, record: SourceRecord?, fields: FormFields,
        session: ConsoleSessions.Session
    ) async -> Response {
        var bad: [String] = []
        var message = error.message
        switch error {
        case .invalidProperties(let names, _):
            bad = names
            message = "\(error.message): \(names.joined(separator: ", "))"
        case .invalidCronExpression:
            bad = [SchedulingProperty.cronExpression]
        case .invalidDisplayName, .invalidName:
            bad = ["display_name"]
        default: break
        }
        let model = formModel(
            creating: creating, typeName: typeName, record: record, fields: fields, bad: bad, error: message, session: session)
        return .page(renderer.page("sourceform", model, layout: await layout(model.title, session: session)), status: .badRequest)
    }

    /// The type's properties, then the scheduling ones it does not declare.
    static func formProperties(_ type: SourceType) -> [PropertySpec] {
        var specs = type.properties
        let declared = Set(specs.map(\.name))
        let scheduling: [(String, String)] = [
            (SchedulingProperty.frequency, "Minutes between scheduled jobs (empty: the type's default)"),
            (SchedulingProperty.anchorTime, "ISO 8601 instant the interval is counted from"),
            (SchedulingProperty.cronExpression, "Quartz cron expression (instead of the interval)"),
            (SchedulingProperty.cronTimeZone, "IANA time zone of the cron expression (empty: UTC)"),
        ]
        for (name, summary) in scheduling where !declared.contains(name) {
            var spec = PropertySpec(name: name, isRequired: false, isCredential: false)
            spec.summary = summary
            specs.append(spec)
        }
        return specs
    }

    /// The source's values as text, for the form (credentials never).
    static func currentValues(_ record: SourceRecord) -> [String: String] {
        var values = record.properties
        if let minutes = record.frequencyMinutes { values[SchedulingProperty.frequency] = String(minutes) }
        if let anchor = record.anchorTime { values[SchedulingProperty.anchorTime] = Timestamp.format(anchor) }
        if let cron = record.cronExpression { values[SchedulingProperty.cronExpression] = cron }
        if let zone = record.cronTimeZone { values[SchedulingProperty.cronTimeZone] = zone }
        return values
    }

    func formModel(
        creating: Bool, typeName: String?, record: SourceRecord?, fields: FormFields, bad: [String], error: String?,
        session: ConsoleSessions.Session
    ) -> FormModel {
        let type = typeName.flatMap { api.catalog[$0] }
        let current = record.map(Self.currentValues) ?? [:]
        let provided = record?.providedProperties ?? []
        let specs = type.map(Self.formProperties) ?? []
        let fieldModels = specs.map { spec -> FieldModel in
            // A refused form keeps what was typed, except credentials, which are never sent back.
            let typed = spec.isCredential ? nil : fields["p.\(spec.name)"]
            let value = typed ?? (spec.isCredential ? "" : current[spec.name] ?? "")
            var help: [String] = []
            if let summary = spec.summary { help.append(summary) }
            if let format = spec.format { help.append("format: \(format.rawValue)") }
            if let pattern = spec.pattern { help.append("pattern: \(pattern)") }
            if let fallback = spec.defaultValue { help.append("default: \(fallback)") }
            let inputType: String
            switch spec.valueType {
            case _ where spec.isCredential: inputType = "password"
            case .integer, .number: inputType = "number"
            default: inputType = "text"
            }
            return FieldModel(
                name: spec.name, inputName: "p.\(spec.name)", label: spec.name.replacingOccurrences(of: "_", with: " "),
                inputType: inputType, required: spec.isRequired && creating, isCredential: spec.isCredential,
                isBoolean: spec.valueType == .boolean && !spec.isCredential, isTrue: value == "true", isFalse: value == "false",
                value: value, isSet: provided.contains(spec.name), help: help.isEmpty ? nil : help.joined(separator: "; "),
                error: bad.contains(spec.name) ? "Not accepted: does not match this property's rules." : nil,
                canClear: !creating && !spec.isRequired && provided.contains(spec.name))
        }
        let title: String
        if creating {
            title = type.map { "Add a \($0.displayName) source" } ?? "Add a source"
        } else {
            title = "Edit \(record?.displayName ?? "source")"
        }
        return FormModel(
            creating: creating, title: title,
            action: creating ? "/ui/sources/new" : "/ui/sources/\(record?.id ?? 0)/edit", type: type?.type, typeLabel: type?.displayName,
            types: api.catalog.sorted.map { TypeOption(type: $0.type, label: "\($0.displayName) (\($0.type))") },
            chooseType: creating && type == nil,
            displayName: fields["display_name"] ?? record?.displayName ?? "",
            displayNameError: bad.contains("display_name") ? error : nil, fields: fieldModels, formError: error, csrf: session.csrf,
            cancel: record.map { "/ui/sources/\($0.id)" } ?? "/ui")
    }
}
