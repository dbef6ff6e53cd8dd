import Foundation
import Hummingbird
import NIOCore
import TaplineCore
import TaplineStore

/// `/v4/sources`: create, list, retrieve, update (including pause and unpause) and delete.
struct SourcesController {
    let dependencies: APIDependencies

    func addRoutes(to group: RouterGroup<TaplineRequestContext>) {
        group.post("sources", use: create)
        group.get("sources", use: list)
        group.get("sources/:id", use: retrieve)
        group.put("sources/:id", use: update)
        group.delete("sources/:id", use: delete)
    }

    @Sendable func create(request: Request, context: TaplineRequestContext) async throws -> Response {
        let body = try await request.boundedBody(dependencies)
        let new: NewSource
        do throws(SourceError) {
            new = try SourceRequests.create(
                try SourceRequests.decode(body, emptyMessage: SourceError.postBodyMessage), catalog: dependencies.catalog)
        } catch {
            throw APIError.source(error, catalog: dependencies.catalog)
        }
        let record = try await mapSourceErrors {
            try await dependencies.store.createSource(new, actor: actor(context), now: dependencies.now())
        }
        dependencies.observer?.sourceChanged(record)
        context.logger.info("source created", metadata: ["source.id": "\(record.id)", "source.type": "\(record.type)"])
        return respond(record)
    }

    @Sendable func list(request: Request, context: TaplineRequestContext) async throws -> Response {
        let records = try await dependencies.store.allSources()
        return .json(.array(records.map(wire)))
    }

    @Sendable func retrieve(request: Request, context: TaplineRequestContext) async throws -> Response {
        let raw = context.parameters.get("id") ?? ""
        guard let id = CanonicalID.parse(raw), let record = try await dependencies.store.source(id: id) else {
            throw APIError.notFound("source not found (\(raw))")
        }
        return respond(record)
    }

    @Sendable func update(request: Request, context: TaplineRequestContext) async throws -> Response {
        let id = try sourceID(context)
        let body = try await request.boundedBody(dependencies)
        let shape: SourceRequests.UpdateShape
        do throws(SourceError) {
            shape = try SourceRequests.updateShape(
                try SourceRequests.decode(body, emptyMessage: "PUT body must be a JSON object"))
        } catch {
            throw APIError.source(error, catalog: dependencies.catalog)
        }
        let record = try await mapSourceErrors {
            var patch = shape.patch
            if let properties = shape.properties {
                // The type of a source never changes, so reading it before the write is safe.
                guard let current = try await dependencies.store.source(id: id) else { throw SourceError.invalidID(id) }
                guard let type = dependencies.catalog[current.type] else { throw SourceError.invalidType(current.type) }
                patch.changes = try type.validate(properties: properties)
            }
            return try await dependencies.store.updateSource(
                id: id, patch: patch, actor: actor(context), now: dependencies.now())
        }
        dependencies.observer?.sourceChanged(record)
        if let pause = shape.patch.pause {
            context.logger.info(
                pause == .unpause ? "source unpaused" : "source paused", metadata: ["source.id": "\(record.id)"])
        }
        return respond(record)
    }

    @Sendable func delete(request: Request, context: TaplineRequestContext) async throws -> Response {
        let id = try sourceID(context)
        let record = try await mapSourceErrors {
            try await dependencies.store.deleteSource(id: id, actor: actor(context), now: dependencies.now())
        }
        dependencies.observer?.sourceChanged(record)
        context.logger.info("source deleted", metadata: ["source.id": "\(record.id)"])
        return respond(record)
    }

    // MARK: Helpers

    private func wire(_ record: SourceRecord) -> WireJSON {
        SourceWire.json(record, catalog: dependencies.catalog, stitchClientID: dependencies.stitchClientID)
    }

    private func respond(_ record: SourceRecord) -> Response { .json(wire(record)) }

    /// The `{id}` of a PUT or DELETE; an id that cannot exist is Stitch's `InvalidId`.
    private func sourceID(_ context: TaplineRequestContext) throws -> Int64 {
        let raw = context.parameters.get("id") ?? ""
        guard let id = CanonicalID.parse(raw) else {
            throw APIError.sources(code: "InvalidId", message: "source not found (\(raw))")
        }
        return id
    }

    private func actor(_ context: TaplineRequestContext) -> Actor {
        context.actor ?? .system
    }

    private func mapSourceErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as SourceError {
            throw APIError.source(error, catalog: dependencies.catalog)
        }
    }
}
