import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TaplineCore
import TaplineStoreContract

/// `/v4/{client_id}/extractions`, `/v4/{client_id}/extractions/{job_name}` (302 to the log) and
/// `/v4/{client_id}/loads`: Stitch's job history, 100 per page, for the past 60 days.
struct ExtractionsController {
    let dependencies: APIDependencies
    static let perPage = 100
    static let window: TimeInterval = 60 * 86_400

    func addRoutes(to group: RouterGroup<TaplineRequestContext>) {
        group.get(":client/extractions", use: extractions)
        group.get(":client/extractions/:job", use: logRedirect)
        group.get(":client/extractions/:job/log", use: log)
        group.get(":client/loads", use: loads)
    }

    @Sendable func extractions(request: Request, context: TaplineRequestContext) async throws -> Response {
        let client = try clientID(context)
        let page = try JobWire.page(request)
        let since = dependencies.now().addingTimeInterval(-Self.window)
        let (rows, total) = try await dependencies.store.lastExtractions(since: since, page: page, perPage: Self.perPage)
        let items = rows.map { row -> WireJSON in
            let job = row.job
            return .object(
                [
                    ("job_name", .string(job.jobName)),
                    ("stitch_client_id", .int(client)),
                    ("source_id", .int(job.sourceID)),
                    ("source_type", .string(tapName(row.sourceType))),
                    ("start_time", .string(Timestamp.format(job.startedAt))),
                    ("completion_time", .optional(job.completedAt.map(Timestamp.format))),
                ] + JobWire.exitFields(job))
        }
        return .json(JobWire.page(items, page: page, total: total, perPage: Self.perPage, path: "/v4/\(client)/extractions"))
    }

    /// Stitch answers with a redirect to the log file; tapline serves the log itself.
    @Sendable func logRedirect(request: Request, context: TaplineRequestContext) async throws -> Response {
        let client = try clientID(context)
        let name = context.parameters.get("job") ?? ""
        guard try await dependencies.store.job(name: name) != nil else {
            throw APIError.notFound("extraction job not found (\(name))")
        }
        return Response(
            status: .found,
            headers: [.location: "/v4/\(client)/extractions/\(name)/log", .contentLength: "0"])
    }

    @Sendable func log(request: Request, context: TaplineRequestContext) async throws -> Response {
        _ = try clientID(context)
        let name = context.parameters.get("job") ?? ""
        guard let job = try await dependencies.store.job(name: name) else {
            throw APIError.notFound("extraction job not found (\(name))")
        }
        guard let path = job.logPath, FileManager.default.isReadableFile(atPath: path) else {
            return try await relayedLog(name, request: request, context: context)
        }
        // Streamed from the file in chunks off the event loop: a log may be large (up to
        // jobs.max_log_bytes), and no request may hold it in memory or block other clients.
        let body = try await FileIO().loadFile(path: path, context: context, chunkLength: 64 * 1024)
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: body)
    }

    /// The header a node sets when it asks another for a log, so that a request is relayed once
    /// at most (two nodes that each believe the other has the log do not ask each other forever).
    static let relayedHeader = HTTPField.Name("X-Tapline-Relayed")!

    /// A log this node does not have: fetched from the node of the cluster that ran the job.
    private func relayedLog(_ name: String, request: Request, context: TaplineRequestContext) async throws -> Response {
        guard let relay = dependencies.logRelay, request.headers[Self.relayedHeader] == nil,
            let relayed = await relay.fetch(jobName: name, path: request.uri.path, authorization: request.headers[.authorization])
        else {
            throw APIError.notFound("the log of \(name) is no longer kept")
        }
        switch relayed {
        case .missing(let node):
            throw APIError.notFound("the log of \(name) is no longer kept (it ran on node \(node))")
        case .unreachable(let reason):
            throw APIError.sources(.serviceUnavailable, code: "Unavailable", message: "the log of \(name) cannot be fetched now: \(reason)")
        case .file(let copy):
            let file: ResponseBody
            do {
                file = try await FileIO().loadFile(path: copy, context: context, chunkLength: 64 * 1024)
            } catch {
                unlink(copy)
                throw error
            }
            let body = ResponseBody(contentLength: file.contentLength) { writer in
                defer { unlink(copy) }
                try await file.write(writer)
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: body)
        }
    }

    @Sendable func loads(request: Request, context: TaplineRequestContext) async throws -> Response {
        let client = try clientID(context)
        let page = try JobWire.page(request)
        let since = dependencies.now().addingTimeInterval(-Self.window)
        let (rows, total) = try await dependencies.store.loads(since: since, page: page, perPage: Self.perPage)
        let items = rows.map { load -> WireJSON in
            .object([
                ("stitch_client_id", .int(client)),
                ("source_name", .string(load.sourceName)),
                ("stream_name", .string(load.streamName)),
                // Rounded up: dagster-stitch waits until it is not earlier than the log's last
                // line (milliseconds), written from the same instant.
                ("last_batch_loaded_at", .optional(load.lastBatchLoadedAt.map(Timestamp.formatRoundingUp))),
                ("error_state", load.failure.map(Self.errorState) ?? .null),
            ])
        }
        return .json(JobWire.page(items, page: page, total: total, perPage: Self.perPage, path: "/v4/\(client)/loads"))
    }

    /// Stitch's `error_state` of a failed load; `warehouse_message` is what pollers (mage-ai)
    /// show.
    static func errorState(_ failure: LoadFailure) -> WireJSON {
        .object([
            (
                "notification_data",
                .object([
                    ("error", .string("TARGET_ERROR")),
                    ("exception_message", .string(failure.targetExitStatus.map { "target exited with status \($0)" } ?? failure.message)),
                    ("message", .string(failure.message)),
                    ("status", .string("ERROR")),
                    ("warehouse_message", .string(failure.message)),
                ])
            )
        ])
    }

    /// The path's client id must be this account's (Stitch answers 401 otherwise).
    private func clientID(_ context: TaplineRequestContext) throws -> Int64 {
        let raw = context.parameters.get("client") ?? ""
        guard let id = CanonicalID.parse(raw), id == dependencies.stitchClientID else {
            throw APIError.sources(
                .unauthorized, code: "Unauthorized", message: "this token has no access to client \(raw)")
        }
        return id
    }

    /// The tap's name as Stitch reports it (`tap-github`): the tap program's file name, or the
    /// subcommand for tapline's own taps (`demo-tap`).
    private func tapName(_ type: String) -> String {
        guard let command = dependencies.catalog[type]?.tapCommand, let program = command.first else { return type }
        if program == "tapline", command.count > 1 { return command[1] }
        return (program as NSString).lastPathComponent
    }
}
