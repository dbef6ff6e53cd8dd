import Foundation
import Hummingbird
import TaplineCore
import TaplineStoreContract

/// `/v4/destinations` and `/v4/destination-types`: the account's one destination, as in Stitch.
///
/// Callers choose a configured destination type and fill in its properties; the target command
/// comes from the configuration. Deleting the destination system-pauses every source until a
/// new one is created (the start transaction's pause re-check enforces it).
struct DestinationsController {
    let dependencies: APIDependencies

    func addRoutes(to group: RouterGroup<TaplineRequestContext>) {
        group.get("destination-types", use: types)
        group.get("destinations", use: list)
        group.get("destinations/:id", use: retrieve)
        group.post("destinations", use: create)
        group.put("destinations/:id", use: update)
        group.delete("destinations/:id", use: delete)
    }

    static let createKeys: Set<String> = ["type", "properties"]

    @Sendable func types(request: Request, context: TaplineRequestContext) async throws -> Response {
        .json(.array(dependencies.destinationTypes.types.map { ReportCardWire.forDestination($0, provided: nil) }))
    }

    @Sendable func list(request: Request, context: TaplineRequestContext) async throws -> Response {
        let live = try await dependencies.store.destinations().filter { $0.deletedAt == nil }
        return .json(.array(live.map(wire)))
    }

    /// One destination by id, a deleted one too (with its `deleted_at`), as `GET /v4/sources/{id}`
    /// answers; Stitch documents no such route, but clients call it (mage-ai's `get_destination`).
    @Sendable func retrieve(request: Request, context: TaplineRequestContext) async throws -> Response {
        let raw = context.parameters.get("id") ?? ""
        guard let id = CanonicalID.parse(raw), let record = try await dependencies.store.destinations().first(where: { $0.id == id })
        else {
            throw APIError.notFound("destination not found (\(raw))")
        }
        return .json(wire(record))
    }

    @Sendable func create(request: Request, context: TaplineRequestContext) async throws -> Response {
        let body = try await bodyObject(request, context: context)
        guard Set(body.keys).isSubset(of: Self.createKeys), case .string(let name)? = body["type"] else {
            throw invalid("POST body must hold a type and a properties object (and nothing else)")
        }
        let type: DestinationType
        do throws(DestinationError) {
            type = try dependencies.destinationTypes.resolve(name)
        } catch {
            throw Self.apiError(error, dependencies.destinationTypes)
        }
        let properties = try propertiesObject(body["properties"], required: true)
        do {
            let changes = try type.validate(properties: properties)
            let regular = changes.regular.compactMapValues(\.newValue)
            let credentials = changes.credentials.compactMapValues(\.newValue)
            let missing = type.missingRequired(Set(regular.keys).union(credentials.keys))
            guard missing.isEmpty else { throw DestinationError.missingRequired(missing) }
            let created = try await dependencies.store.createDestination(
                type: type.type, properties: regular, credentials: credentials, now: dependencies.now())
            return .json(wire(created))
        } catch let error as DestinationError {
            throw Self.apiError(error, dependencies.destinationTypes)
        }
    }

    @Sendable func update(request: Request, context: TaplineRequestContext) async throws -> Response {
        let id = try destinationID(context)
        var body = try await bodyObject(request, context: context)
        if body["type"] != nil { throw Self.apiError(.typeChange, dependencies.destinationTypes) }
        // Stitch documents {"properties": {…}}; the community spec (and so the Python client)
        // sends the properties object itself. Both are accepted.
        if body["properties"] == nil { body = ["properties": .object(body)] }
        guard Set(body.keys).isSubset(of: ["properties"]) else { throw invalid("PUT body may only include properties") }
        guard let current = try await dependencies.store.destinations().first(where: { $0.id == id && $0.deletedAt == nil }) else {
            throw Self.apiError(.unknownID(id), dependencies.destinationTypes)
        }
        guard let type = dependencies.destinationTypes[current.type] else {
            throw invalid("the destination's type \(current.type) is no longer in the configuration")
        }
        let properties = try propertiesObject(body["properties"], required: true)
        do {
            let changes = try type.validate(properties: properties)
            var provided = Set(current.properties.keys).union(current.credentials.keys)
            for (key, change) in changes.regular.merging(changes.credentials, uniquingKeysWith: { $1 }) {
                if change.newValue == nil { provided.remove(key) } else { provided.insert(key) }
            }
            let missing = type.missingRequired(provided)
            guard missing.isEmpty else { throw DestinationError.missingRequired(missing) }
            let record = try await dependencies.store.updateDestination(
                id: id, regular: changes.regular, credentials: changes.credentials, now: dependencies.now())
            return .json(wire(record))
        } catch let error as DestinationError {
            throw Self.apiError(error, dependencies.destinationTypes)
        }
    }

    @Sendable func delete(request: Request, context: TaplineRequestContext) async throws -> Response {
        let id = try destinationID(context)
        do {
            return .json(wire(try await dependencies.store.deleteDestination(id: id, now: dependencies.now())))
        } catch let error as DestinationError {
            throw Self.apiError(error, dependencies.destinationTypes)
        }
    }

    // MARK: Wire

    /// The Destination object of the community OpenAPI spec; credentials are never part of it.
    func wire(_ record: DestinationRecord) -> WireJSON {
        let type = dependencies.destinationTypes[record.type]
        return .object([
            ("id", .int(record.id)),
            ("type", .string(type?.stitchType ?? record.type)),
            ("tapline_type", .string(record.type)),
            ("name", .string(type?.displayName ?? record.type)),
            ("stitch_client_id", .int(dependencies.stitchClientID)),
            ("properties", .object(record.properties.sorted { $0.key < $1.key }.map { ($0.key, WireJSON.string($0.value)) })),
            (
                "report_card",
                type.map { ReportCardWire.forDestination($0, provided: Set(record.properties.keys).union(record.credentials.keys)) }
                    ?? .null
            ),
            ("paused_at", .null),
            ("system_paused_at", .null),
            ("created_at", .string(Timestamp.format(record.createdAt))),
            ("updated_at", .string(Timestamp.format(record.updatedAt))),
            ("deleted_at", .optional(record.deletedAt.map(Timestamp.format))),
        ])
    }

    // MARK: Requests and errors

    private func bodyObject(_ request: Request, context: TaplineRequestContext) async throws -> [String: JSONValue] {
        let buffer = try await request.boundedBody(dependencies)
        do throws(SourceError) {
            return try SourceRequests.decode(buffer, emptyMessage: "body must be a JSON object with type and properties")
        } catch {
            throw invalid(error.message)
        }
    }

    private func propertiesObject(_ value: JSONValue?, required: Bool) throws -> [String: JSONValue] {
        switch value {
        case .object(let object)?: return object
        case nil where !required: return [:]
        default: throw invalid("properties must be an object of string values")
        }
    }

    private func destinationID(_ context: TaplineRequestContext) throws -> Int64 {
        let raw = context.parameters.get("id") ?? ""
        guard let id = CanonicalID.parse(raw) else { throw invalid("invalid destination id (\(raw))") }
        return id
    }

    private func invalid(_ message: String) -> APIError {
        .sources(code: "InvalidBody", message: message)
    }

    /// Stitch documents a bare string for the second destination; the other refusals use the
    /// sources shape, naming what is wrong.
    static func apiError(_ error: DestinationError, _ types: DestinationTypeCatalog) -> APIError {
        switch error {
        case .alreadyExists:
            return APIError(status: .badRequest, body: .string("an account can have at most one destination"))
        case .unknownType(let name):
            let known = types.types.map { "\($0.type) (\($0.stitchType))" }.joined(separator: ", ")
            return .sources(code: "InvalidType", message: "invalid destination type (\(name)); configured: \(known)")
        case .ambiguousType(let name):
            return .sources(code: "InvalidType", message: "several destination types report \(name); use the type's own name")
        case .invalidProperties(let bad):
            return .sources(
                code: "InvalidProperties", message: "properties do not match schema",
                extra: [("bad_properties", .array(bad.map(WireJSON.string)))])
        case .missingRequired(let names):
            return .sources(
                code: "InvalidProperties", message: "required properties are missing: \(names.joined(separator: ", "))",
                extra: [("bad_properties", .array(names.map(WireJSON.string)))])
        case .unknownID(let id):
            return .sources(code: "InvalidId", message: "destination not found (\(id))")
        case .typeChange:
            return .sources(code: "InvalidBody", message: "Modifications to type are unsupported")
        }
    }
}
