import Foundation
import Hummingbird
import TaplineAPI
import TaplineCore
import TaplineStoreContract

/// The sources list (`/ui`) and the actions on one source or many (`POST /ui/actions`).
extension Console {
    struct CountModel {
        var key: String
        var label: String
        var n: Int
        var href: String
        var current: Bool
    }

    struct OptionModel {
        var value: String
        var label: String
        var selected: Bool
    }

    struct PageLink {
        var href: String
        var label: String
    }

    struct SourcesModel {
        var rows: [SourceRowModel]
        var counts: [CountModel]
        var states: [OptionModel]
        var sorts: [OptionModel]
        var search: String
        var stateValue: String
        var sortValue: String
        var filterNote: String?
        var matching: Int
        var total: Int
        var page: Int
        var pageCount: Int
        var previousPage: PageLink?
        var nextPage: PageLink?
        var canAct: Bool
        var csrf: String
        var back: String
        var empty: Bool
        var noSourcesAtAll: Bool
    }

    @Sendable func sourcesPage(request: Request, context: TaplineRequestContext) async throws -> Response {
        let session = try viewer(request)
        let query = SourceListQuery(Self.query(request))
        let now = api.now()
        let prepared = try await overviews.prepared()
        let frame = await layout("Sources", session: session, live: true)
        let catalog = api.catalog
        let renderer = self.renderer
        // Filtering, slicing and rendering run on the console's own queue: a page of 10,000
        // sources never holds the threads that answer a pause.
        let html = await ConsoleWork.run {
            let listing = SourceListing.make(prepared, query: query, now: now)
            let model = Self.sourcesModel(listing, query: query, session: session, catalog: catalog, now: now)
            return renderer.page("sources", model, layout: frame)
        }
        return .page(html)
    }

    static func sourcesModel(
        _ listing: SourceListing, query: SourceListQuery, session: ConsoleSessions.Session, catalog: SourceTypeCatalog, now: Date
    ) -> SourcesModel {
        let back = "/ui" + (query.encoded().isEmpty ? "" : "?" + query.encoded())
        let canAct = !session.identity.readOnly
        let rows = listing.page.map {
            SourceRowModel($0, catalog: catalog, now: now, canAct: canAct, csrf: session.csrf, back: back)
        }
        func count(_ filter: SourceListQuery.StateFilter, _ n: Int) -> CountModel {
            var target = SourceListQuery()
            target.state = filter
            target.search = query.search
            let encoded = target.encoded()
            return CountModel(
                key: filter.rawValue, label: filter.label, n: n, href: "/ui" + (encoded.isEmpty ? "" : "?" + encoded),
                current: filter == query.state)
        }
        let c = listing.counts
        let counts = [
            count(.all, c.total), count(.running, c.running), count(.scheduled, c.scheduled), count(.paused, c.paused),
            count(.systemPaused, c.systemPaused), count(.failed, c.lastFailed), count(.failed24h, c.failed24h),
        ]
        let page = min(query.page, listing.pageCount)
        func link(_ target: Int, _ label: String) -> PageLink {
            let encoded = query.encoded(page: target)
            return PageLink(href: "/ui" + (encoded.isEmpty ? "" : "?" + encoded), label: label)
        }
        let note: String?
        switch query.state {
        case .failed: note = "Last run failed: the most recent run that ended, failed (a later success clears it)."
        case .failed24h: note = "Any run failed in the last 24 h, even if a later run succeeded."
        case .running: note = "A job of the source is running now, scheduled or manual."
        case .unscheduled: note = "Not paused, but not due: not fully configured, or a schedule that never fires again."
        default: note = nil
        }
        return SourcesModel(
            rows: rows, counts: counts,
            states: SourceListQuery.StateFilter.allCases.map {
                OptionModel(value: $0.rawValue, label: $0.label, selected: $0 == query.state)
            },
            sorts: SourceListQuery.Sort.allCases.map { OptionModel(value: $0.rawValue, label: $0.label, selected: $0 == query.sort) },
            search: query.search, stateValue: query.state.rawValue, sortValue: query.sort.rawValue, filterNote: note,
            matching: listing.matching.count, total: c.total, page: page, pageCount: listing.pageCount,
            previousPage: page > 1 ? link(page - 1, "← Previous") : nil,
            nextPage: page < listing.pageCount ? link(page + 1, "Next →") : nil, canAct: canAct, csrf: session.csrf, back: back,
            empty: rows.isEmpty, noSourcesAtAll: c.total == 0)
    }

    // MARK: Actions

    enum Action: String, Sendable {
        case pause, resume, sync, stop

        var verb: String {
            switch self {
            case .pause: "Pause"
            case .resume: "Resume"
            case .sync: "Run now"
            case .stop: "Stop the running job of"
            }
        }

        var done: String {
            switch self {
            case .pause: "Paused"
            case .resume: "Resumed"
            case .sync: "Started a job for"
            case .stop: "Asked to stop the job of"
            }
        }
    }

    struct ConfirmModel {
        var title: String
        var question: String
        var action: String
        var actionLabel: String
        var ids: [Int64]
        var allMatching: Bool
        var filterFields: [HiddenField]
        var askReason: Bool
        var reason: String
        var csrf: String
        var back: String
        var names: [String]
        var more: Int?
    }

    struct HiddenField {
        var name: String
        var value: String
    }

    /// Largest number of sources one action names by id (a filter's "everything" has no limit).
    static let maxActionIDs = 10_000

    @Sendable func act(request: Request, context: TaplineRequestContext) async throws -> Response {
        let fields = try await Self.form(request)
        let session = try changer(request, fields: fields)
        guard let action = fields["action"].flatMap(Action.init(rawValue:)) else {
            throw ConsoleError.badRequest("unknown action \(fields["action"] ?? "(none)"); expected pause, resume, sync or stop")
        }
        let back = Self.back(fields)
        let reason = Self.reason(fields["reason"])
        let allMatching = fields["all_matching"] == "1"
        var ids: [Int64]
        if allMatching {
            let query = SourceListQuery(fields)
            ids = SourceListing.make(try await overviews.overviews(fresh: true), query: query, now: api.now()).matching.map(\.id)
        } else {
            var seen = Set<Int64>()
            ids = fields.all("id").compactMap(CanonicalID.parse).filter { seen.insert($0).inserted }
            guard ids.count <= Self.maxActionIDs else {
                throw ConsoleError.badRequest(
                    "at most \(Self.maxActionIDs) sources can be named at once; use \"every source this filter matches\"")
            }
        }
        guard !ids.isEmpty else {
            sessions.setFlash(id: session.id, "No source was selected; nothing was done.")
            return .redirect(back)
        }
        if ids.count > 1 || allMatching, fields["confirmed"] != "1" {
            return try await confirm(action, ids: ids, allMatching: allMatching, fields: fields, session: session, back: back)
        }
        let outcome = await perform(action, ids: ids, actor: Actor(session.identity.name), reason: reason, session: session)
        sessions.setFlash(id: session.id, outcome)
        context.logger.info(
            "console action",
            metadata: ["action": "\(action.rawValue)", "sources.count": "\(ids.count)", "token.name": "\(session.identity.name)"])
        return .redirect(back)
    }

    /// The page that names what a bulk action will touch before it does.
    func confirm(_ action: Action, ids: [Int64], allMatching: Bool, fields: FormFields, session: ConsoleSessions.Session, back: String)
        async throws -> Response
    {
        let rows = try await overviews.overviews()
        let byID = Dictionary(rows.map { ($0.id, $0.displayName) }, uniquingKeysWith: { a, _ in a })
        let shown = ids.prefix(20).map { byID[$0] ?? "source \($0)" }
        let noun = ids.count == 1 ? "source" : "sources"
        let scope = allMatching ? " (every source the filter matches now)" : ""
        let model = ConfirmModel(
            title: "\(action.verb) \(ids.count) \(noun)?",
            question: "\(action.verb) \(ids.count) \(noun)\(scope)?", action: action.rawValue,
            actionLabel: "\(action.verb) \(ids.count) \(noun)", ids: allMatching ? [] : ids, allMatching: allMatching,
            filterFields: allMatching ? SourceListQuery(fields).filterFields.map { HiddenField(name: $0.name, value: $0.value) } : [],
            askReason: action == .pause || action == .resume || action == .sync || action == .stop,
            reason: fields["reason"] ?? "", csrf: session.csrf, back: back, names: shown,
            more: ids.count > shown.count ? ids.count - shown.count : nil)
        return .page(renderer.page("confirm", model, layout: await layout(model.title, session: session)))
    }

    /// Carries out `action` on each source, one committed change each, and says what happened.
    func perform(_ action: Action, ids: [Int64], actor: Actor, reason: String?, session: ConsoleSessions.Session) async -> String {
        var done = 0
        var unchanged = 0
        var failures: [String] = []
        let now = api.now()
        for id in ids {
            do {
                switch try await apply(action, id: id, actor: actor, reason: reason, now: now) {
                case .done: done += 1
                case .unchanged: unchanged += 1
                case .refused(let why): failures.append("\(id): \(why)")
                }
            } catch {
                failures.append("\(id): \(describe(error))")
            }
        }
        overviews.invalidate()
        feed.signal()
        let noun = done == 1 ? "source" : "sources"
        var text = "\(action.done) \(done) \(noun)"
        if let reason { text += " (reason: \(reason))" }
        text += "."
        if unchanged > 0 {
            let already: String
            switch action {
            case .pause: already = "already paused"
            case .resume: already = "not paused"
            case .sync: already = "already running a job"
            case .stop: already = "not running a job"
            }
            text += " \(unchanged) \(already)."
        }
        if !failures.isEmpty {
            text += " \(failures.count) refused: " + failures.prefix(5).joined(separator: "; ") + (failures.count > 5 ? "; …" : "")
        }
        return text
    }

    enum ActionResult: Equatable {
        case done, unchanged
        case refused(String)
    }

    func apply(_ action: Action, id: Int64, actor: Actor, reason: String?, now: Date) async throws -> ActionResult {
        switch action {
        case .pause, .resume:
            guard let source = try await store.source(id: id) else { return .refused("no such source") }
            guard source.deletedAt == nil else { return .refused("deleted") }
            if (action == .pause) == (source.pausedAt != nil) { return .unchanged }
            var patch = SourcePatch()
            patch.pause = action == .pause ? .pause(shownAs: now) : .unpause
            patch.reason = reason
            _ = try await store.updateSource(id: id, patch: patch, actor: actor, now: now)
            return .done
        case .sync:
            guard let jobs = api.jobs else { return .refused("this daemon runs no jobs") }
            let name = JobName.make(clientID: api.stitchClientID, sourceID: id, at: now)
            switch try await store.startManualJob(sourceID: id, now: now, jobName: name, actor: actor, reason: reason) {
            case .started(let job, let source):
                jobs.start(job, source: source)
                return .done
            case .alreadyRunning: return .unchanged
            case .unknownSource: return .refused("no such source")
            case .deleted: return .refused("deleted")
            case .notConfigured(let step): return .refused("not fully configured (current step: \(step.rawValue))")
            case .typeMissing(let type): return .refused("source type \(type) is not in tapline's configuration")
            case .noDestination: return .refused("there is no destination to load into")
            }
        case .stop:
            guard let jobs = api.jobs else { return .refused("this daemon runs no jobs") }
            guard try await store.source(id: id) != nil else { return .refused("no such source") }
            let running = try await store.jobs(sourceID: id, page: 1, perPage: 1, filter: JobFilter(statuses: [.running])).jobs.first
            guard try await jobs.stop(sourceID: id) else { return .unchanged }
            try await store.recordRequest(
                sourceID: id, kind: .stopRequested, actor: actor, reason: reason, detail: running?.jobName, now: now)
            return .done
        }
    }

    /// A reason as recorded: trimmed, one line, at most 500 characters; blank is none.
    static func reason(_ text: String?) -> String? {
        guard let text else { return nil }
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return line.isEmpty ? nil : String(line.prefix(500))
    }

    /// What an error says to the person who caused it (never internals).
    func describe(_ error: any Error) -> String {
        if let error = error as? SourceError { return error.message }
        if let error = error as? APIError { return ConsoleMiddleware.message(of: error) ?? "refused" }
        if let reason = api.unavailable(error) { return reason }
        logger.error("console action failed", metadata: ["error": "\(error)"])
        return "internal error; the daemon's log has the details"
    }
}
