import Foundation
import Hummingbird
import NIOCore
import TaplineCore
import TaplineStoreContract

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
        context.logger.info("source created", metadata: ["source.id": "\(record.id)", "source.type": "\(record.type)"])
        return respond(record)
    }

    /// The whole list, streamed: sources are read 500 at a time and each page is encoded on a
    /// dispatch thread, so a list of 20,000 sources holds one page in memory and never keeps the
    /// threads that answer other requests (a pause, say) busy while it is encoded.
    @Sendable func list(request: Request, context: TaplineRequestContext) async throws -> Response {
        let store = dependencies.store
        let first = try await store.sources(after: 0, limit: Self.listPage)
        let wire = self.wire
        let body = ResponseBody { writer in
            var page = first
            var separator = "["
            while true {
                let chunk = await Self.encodeOffPool(page, separator: separator, wire: wire)
                if !chunk.isEmpty { try await writer.write(ByteBuffer(string: chunk)) }
                guard page.count == Self.listPage, let last = page.last else { break }
                separator = ","
                page = try await store.sources(after: last.id, limit: Self.listPage)
                if page.isEmpty { break }
            }
            try await writer.write(ByteBuffer(string: first.isEmpty ? "[]" : "]"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: body)
    }

    static let listPage = 500

    /// `separator` then the page's sources as JSON array members, encoded off the cooperative pool.
    static func encodeOffPool(
        _ page: [SourceRecord], separator: String, wire: @escaping @Sendable (SourceRecord) -> WireJSON
    ) async -> String {
        guard !page.isEmpty else { return "" }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(returning: separator + page.map { wire($0).serialized() }.joined(separator: ","))
            }
        }
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
