import Foundation
import Hummingbird
import TaplineCore
import TaplineStoreContract

/// A job in `GET /v4/sources/{id}/jobs` (a tapline extension), with Stitch's extraction fields.
enum JobWire {
    static func json(_ job: JobRecord) -> WireJSON {
        .object(
            [
                ("job_name", .string(job.jobName)),
                ("source_id", .int(job.sourceID)),
                ("trigger", .string(job.trigger.rawValue)),
                ("scheduled_for", .optional(job.scheduledFor.map(Timestamp.format))),
                ("attempt", .int(Int64(job.attempt))),
                ("started_at", .string(Timestamp.format(job.startedAt))),
                ("completed_at", .optional(job.completedAt.map(Timestamp.format))),
                ("status", .string(job.status.rawValue)),
            ] + exitFields(job))
    }

    /// Stitch's extraction exit statuses and descriptions, shared by both job shapes.
    static func exitFields(_ job: JobRecord) -> [(String, WireJSON)] {
        [
            ("discovery_exit_status", .optional(job.discoveryExitStatus.map(Int64.init))),
            ("discovery_description", .optional(job.discoveryDescription)),
            ("tap_exit_status", .optional(job.tapExitStatus.map(Int64.init))),
            ("tap_description", .optional(job.tapDescription)),
            ("target_exit_status", .optional(job.targetExitStatus.map(Int64.init))),
            ("target_description", .optional(job.targetDescription)),
        ]
    }

    /// `?page=N` (default 1); anything but a positive integer is a 400.
    static func page(_ request: Request) throws -> Int {
        guard let text = request.uri.queryParameters.get("page") else { return 1 }
        guard let n = Int(text), n >= 1, n <= 1_000_000 else {
            throw APIError.job(type: "invalid_page", message: "page must be a positive integer, got \"\(text)\"")
        }
        return n
    }

    /// The listing's filters. An unknown parameter or value is a 400 naming it: a typo must not
    /// silently list every job.
    static func filter(_ request: Request) throws -> JobFilter {
        let allowed: Set<String> = ["page", "status", "trigger", "since", "until"]
        var filter = JobFilter()
        for (key, _) in request.uri.queryParameters where !allowed.contains(String(key)) {
            throw APIError.job(
                type: "invalid_filter", message: "unknown query parameter \(key) (allowed: page, status, trigger, since, until)")
        }
        if let text = request.uri.queryParameters.get("status") {
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let status = JobStatus(rawValue: String(part)) else {
                    throw APIError.job(
                        type: "invalid_filter",
                        message: "status must be running, succeeded, failed, stopped or interrupted (comma-separated), got \"\(text)\"")
                }
                filter.statuses.append(status)
            }
        }
        if let text = request.uri.queryParameters.get("trigger") {
            guard let trigger = JobTrigger(rawValue: text) else {
                throw APIError.job(type: "invalid_filter", message: "trigger must be scheduled or manual, got \"\(text)\"")
            }
            filter.trigger = trigger
        }
        for key in ["since", "until"] {
            guard let text = request.uri.queryParameters.get(key) else { continue }
            guard let date = Timestamp.parseInstant(text) else {
                throw APIError.job(type: "invalid_filter", message: "\(key) must be an ISO 8601 time, got \"\(text)\"")
            }
            if key == "since" { filter.since = date } else { filter.until = date }
        }
        return filter
    }

    /// The request's query without `page`, as it came, for pagination links.
    static func queryWithoutPage(_ request: Request) -> String {
        (request.uri.query ?? "").split(separator: "&").filter { !$0.hasPrefix("page=") }.joined(separator: "&")
    }

    /// Stitch's pagination body: `{"data":[…],"page":N,"total":M,"links":{…}}`, 100 per page,
    /// with relative `next`/`previous` links only where those pages exist.
    /// `query` (already encoded, without `page`) is kept in the links, so a filtered listing
    /// pages through the same filter.
    static func page(_ items: [WireJSON], page: Int, total: Int, perPage: Int, path: String, query: String = "") -> WireJSON {
        var links: [(String, WireJSON)] = []
        let rest = query.isEmpty ? "" : "&" + query
        if page > 1 { links.append(("previous", .string("\(path)?page=\(page - 1)\(rest)"))) }
        if page * perPage < total { links.append(("next", .string("\(path)?page=\(page + 1)\(rest)"))) }
        return .object([
            ("data", .array(items)), ("page", .int(Int64(page))), ("total", .int(Int64(total))), ("links", .object(links)),
        ])
    }
}
