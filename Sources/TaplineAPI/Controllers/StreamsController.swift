import Foundation
import Hummingbird
import NIOCore
import TaplineCore
import TaplineStoreContract

/// `/v4/sources/{id}/streams`, `/streams/{stream_id}`, `/streams/metadata` and
/// `/last-connection-check`: what discovery found and which streams are selected.
struct StreamsController {
    let dependencies: APIDependencies
    static let malformedBody = "body must contain a 'streams' property with a list of metadatas by tap_stream_id"

    func addRoutes(to group: RouterGroup<TaplineRequestContext>) {
        group.get("sources/:id/streams", use: list)
        group.get("sources/:id/streams/:stream", use: schema)
        group.put("sources/:id/streams/metadata", use: updateMetadata)
        group.get("sources/:id/last-connection-check", use: lastCheck)
    }

    @Sendable func list(request: Request, context: TaplineRequestContext) async throws -> Response {
        let id = try await existingSource(context)
        let streams = try await dependencies.store.streams(sourceID: id)
        return .json(
            .array(
                streams.map { record in
                    .object([
                        ("stream_id", .int(record.id)),
                        ("selected", record.selected.map(WireJSON.bool) ?? .null),
                        ("stream_name", .string(record.stream.streamName)),
                        ("tap_stream_id", .string(record.stream.tapStreamID)),
                        ("metadata", Self.streamLevelMetadata(record.stream.metadata)),
                    ])
                }))
    }

    @Sendable func schema(request: Request, context: TaplineRequestContext) async throws -> Response {
        let raw = context.parameters.get("stream") ?? ""
        let invalid = APIError(status: .badRequest, body: .string("invalid stream-id: \(raw)"))
        guard let sourceID = CanonicalID.parse(context.parameters.get("id") ?? ""), let streamID = CanonicalID.parse(raw),
            let record = try await dependencies.store.streams(sourceID: sourceID).first(where: { $0.id == streamID })
        else { throw invalid }
        return .json(
            .object([
                ("schema", .string(record.stream.schema)),
                ("metadata", .raw(Self.metadataWithSelection(record.stream.metadata))),
                ("non-discoverable-metadata-keys", .array(StreamMetadataKeys.writable.map(WireJSON.string))),
            ]))
    }

    /// Merges metadata (selection) into the source's streams; a source whose form is complete
    /// and has a selected stream becomes fully configured and is scheduled.
    @Sendable func updateMetadata(request: Request, context: TaplineRequestContext) async throws -> Response {
        let id = try await existingSource(context)
        let malformed = APIError(status: .badRequest, body: .string(Self.malformedBody))
        let buffer = try await request.boundedBody(dependencies)
        guard let body = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any],
            let streams = body["streams"] as? [[String: Any]],
            JSONStrictness.firstProblem(in: buffer.readableBytesView) == nil
        else { throw malformed }
        var changes: [(tapStreamID: String, entries: [[String: Any]])] = []
        var missingID = false
        for stream in streams {
            guard let entries = stream["metadata"] as? [[String: Any]],
                entries.allSatisfy({ ($0["breadcrumb"] is [String]) && ($0["metadata"] is [String: Any]) })
            else { throw malformed }
            // Stitch names an entry without a tap_stream_id as nil among the invalid ids.
            guard let tapStreamID = stream["tap_stream_id"] as? String else {
                missingID = true
                continue
            }
            changes.append((tapStreamID, entries))
        }
        if missingID {
            let known = Set(try await dependencies.store.streams(sourceID: id).map(\.stream.tapStreamID))
            let invalid = changes.map(\.tapStreamID).filter { !known.contains($0) } + ["nil"]
            throw APIError(
                status: .badRequest,
                body: .object([("invalid_fields", .string("invalid tap-stream-ids:  [\(invalid.joined(separator: " "))]"))]))
        }
        do {
            _ = try await dependencies.store.updateStreamMetadata(sourceID: id, changes: changes, now: dependencies.now())
        } catch let error as StreamMetadataError {
            let message: String
            switch error {
            case .invalidTapStreamIDs(let ids): message = "invalid tap-stream-ids:  [\(ids.joined(separator: " "))]"
            case .discoverableKey(let key): message = "only non-discoverable metadata can be produced by the UI: #{\"\(key)\"}"
            case .unsupportedField: message = "Unsupported fields cannot be selected by default"
            }
            throw APIError(status: .badRequest, body: .object([("invalid_fields", .string(message))]))
        }
        return .json(.object([("status", .int(200))]))
    }

    /// Stitch's connection check object for the source's latest discovery run.
    @Sendable func lastCheck(request: Request, context: TaplineRequestContext) async throws -> Response {
        let id = try await existingSource(context)
        guard let check = try await dependencies.store.lastConnectionCheck(sourceID: id) else {
            throw APIError.notFound("no connection check for source \(id) yet")
        }
        let running = check.status == "running"
        let failed = check.status == "failed"
        return .json(
            .object([
                ("name", .string(check.name)),
                ("mode", .string("check")),
                ("status", .string(check.status)),
                ("start_time", .string(Timestamp.format(check.startedAt))),
                ("completion_time", .optional(check.completedAt.map(Timestamp.format))),
                ("error", .bool(failed)),
                ("check_exit_status", running ? .null : .int(failed ? 1 : 0)),
                ("discovery_exit_status", .optional(check.discoveryExitStatus.map(Int64.init))),
                ("discovery_error_message", .optional(check.discoveryErrorMessage)),
                ("tap_exit_status", .null),
                ("tap_error_message", .null),
                ("target_exit_status", .null),
                ("target_error_message", .null),
            ]))
    }

    private func existingSource(_ context: TaplineRequestContext) async throws -> Int64 {
        let raw = context.parameters.get("id") ?? ""
        guard let id = CanonicalID.parse(raw), try await dependencies.store.source(id: id) != nil else {
            throw APIError.notFound("source not found (\(raw))")
        }
        return id
    }

    /// The metadata at the empty breadcrumb (the stream's own), as a JSON object, with a
    /// `selected` key always present (`null` until the stream was ever selected or deselected,
    /// as Stitch shows it; clients read the key directly).
    static func streamLevelMetadata(_ text: String) -> WireJSON {
        let entries = (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]) ?? []
        var own = entries.first(where: { ($0["breadcrumb"] as? [String] ?? ["x"]).isEmpty })?["metadata"] as? [String: Any] ?? [:]
        if own["selected"] == nil { own["selected"] = NSNull() }
        guard let data = try? JSONSerialization.data(withJSONObject: own, options: [.sortedKeys]) else { return .object([]) }
        return .raw(String(decoding: data, as: UTF8.self))
    }

    /// A stream's metadata as Stitch's stream-schema answer shows it: every entry has a
    /// `selected`; the stream's own is `null` until ever set, a field's is `false` unless it was
    /// selected (automatic fields included, as in Stitch's examples).
    static func metadataWithSelection(_ text: String) -> String {
        guard var entries = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] else { return text }
        for i in entries.indices {
            var values = entries[i]["metadata"] as? [String: Any] ?? [:]
            if values["selected"] == nil {
                let streamLevel = (entries[i]["breadcrumb"] as? [String] ?? []).isEmpty
                values["selected"] = streamLevel ? NSNull() : false as Any
            }
            entries[i]["metadata"] = values
        }
        guard let data = try? JSONSerialization.data(withJSONObject: entries, options: [.sortedKeys]) else { return text }
        return String(decoding: data, as: UTF8.self)
    }
}
