import Foundation
import Hummingbird
import TaplineCore
import TaplineStoreContract

/// `POST /v4/sources/{id}/state/reset` (a tapline extension): start a source over from its
/// `start_date` by clearing the bookmarks its jobs confirmed.
struct SourceStateController {
    let dependencies: APIDependencies

    func addRoutes(to group: RouterGroup<TaplineRequestContext>) {
        group.post("sources/:id/state/reset", use: reset)
    }

    @Sendable func reset(request: Request, context: TaplineRequestContext) async throws -> Response {
        let raw = context.parameters.get("id") ?? ""
        guard let id = CanonicalID.parse(raw) else {
            throw APIError.sources(code: "InvalidId", message: "source not found (\(raw))")
        }
        let now = dependencies.now()
        let result: StateResetResult
        do {
            result = try await dependencies.store.resetState(sourceID: id, actor: context.actor ?? .system, now: now)
        } catch let error as SourceError {
            throw APIError.source(error, catalog: dependencies.catalog)
        }
        switch result {
        case .jobRunning(let name):
            throw APIError.sources(
                .conflict, code: "Conflict",
                message: "a job of source \(id) is running (\(name)); stop it (DELETE /v4/sources/\(id)/sync) or let it end, then reset")
        case .reset(let previous):
            context.logger.notice("source state reset", metadata: ["source.id": "\(id)"])
            return .json(
                .object([
                    ("source_id", .int(id)),
                    ("reset_at", .string(Timestamp.format(now))),
                    ("previous_state", previous.map(WireJSON.raw) ?? .null),
                ]))
        }
    }
}
