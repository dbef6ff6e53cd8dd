import Foundation
import Hummingbird
import TaplineCore
import TaplineStoreContract

/// `POST` and `DELETE /v4/sources/{id}/sync` (start and stop a replication job) and the tapline
/// extension `GET /v4/sources/{id}/jobs`.
struct ReplicationJobsController {
    let dependencies: APIDependencies

    func addRoutes(to group: RouterGroup<TaplineRequestContext>) {
        group.post("sources/:id/sync", use: start)
        group.delete("sources/:id/sync", use: stop)
        group.get("sources/:id/jobs", use: list)
    }

    /// Starts a manual job, whether or not the source is paused or system paused, without changing
    /// its pause state. A second start while a job runs is Stitch's `200` with `already_running`.
    @Sendable func start(request: Request, context: TaplineRequestContext) async throws -> Response {
        let raw = context.parameters.get("id") ?? ""
        let client = dependencies.stitchClientID
        guard let id = CanonicalID.parse(raw), let jobs = dependencies.jobs else { throw unknownSource(raw) }
        let now = dependencies.now()
        let name = JobName.make(clientID: client, sourceID: id, at: now)
        switch try await dependencies.store.startManualJob(
            sourceID: id, now: now, jobName: name, actor: context.actor ?? .system, reason: nil)
        {
        case .started(let job, let source):
            jobs.start(job, source: source)
            return .json(.object([("job_name", .string(job.jobName))]))
        case .alreadyRunning:
            return try APIError.job(
                .ok, type: "already_running",
                message: "Did not create job for client-id: \(client); connection-id: \(id) because one already exists"
            ).response(from: request, context: context)
        case .unknownSource:
            throw unknownSource(raw)
        case .deleted:
            throw APIError.job(type: "invalid_source", message: "Integration is deleted.")
        case .notConfigured(let step):
            throw APIError.job(
                type: "invalid_source", message: "Source \(id) is not fully configured (current step: \(step.rawValue))")
        case .typeMissing(let type):
            throw APIError.job(type: "invalid_source", message: "Source type \(type) is not in tapline's configuration")
        case .noDestination:
            throw APIError.job(
                type: "invalid_source", message: "There is no destination to load into; create one with POST /v4/destinations")
        }
    }

    /// Stops the source's running job (SIGTERM, then SIGKILL after the grace period). Answers
    /// `{"status": 200}` whether or not a job was running, as Stitch does.
    @Sendable func stop(request: Request, context: TaplineRequestContext) async throws -> Response {
        let raw = context.parameters.get("id") ?? ""
        guard let id = CanonicalID.parse(raw), try await dependencies.store.source(id: id) != nil else { throw unknownSource(raw) }
        if let jobs = dependencies.jobs, try await jobs.stop(sourceID: id) {
            context.logger.info("job stop requested", metadata: ["source.id": "\(id)"])
        }
        return .json(.object([("status", .int(200))]))
    }

    /// A page of the source's jobs, newest first, 100 per page, filtered by `status` (one or a
    /// comma-separated list), `trigger` and a start time range (`since`, `until`: ISO 8601).
    @Sendable func list(request: Request, context: TaplineRequestContext) async throws -> Response {
        let raw = context.parameters.get("id") ?? ""
        guard let id = CanonicalID.parse(raw), try await dependencies.store.source(id: id) != nil else {
            throw APIError.notFound("source not found (\(raw))")
        }
        let page = try JobWire.page(request)
        let filter = try JobWire.filter(request)
        let perPage = 100
        let (jobs, total) = try await dependencies.store.jobs(sourceID: id, page: page, perPage: perPage, filter: filter)
        return .json(
            JobWire.page(
                jobs.map(JobWire.json), page: page, total: total, perPage: perPage, path: "/v4/sources/\(id)/jobs",
                query: JobWire.queryWithoutPage(request)))
    }

    private func unknownSource(_ raw: String) -> APIError {
        .job(type: "invalid_source", message: "Unable to locate source(\(raw)) for client (\(dependencies.stitchClientID))")
    }
}
