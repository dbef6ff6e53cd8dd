import Foundation
import Hummingbird
import TaplineAPI
import TaplineCore
import TaplineStoreContract

/// A source's page (`/ui/sources/{id}`): Stitch's figures, the strip and table of its
/// extractions, the connection check, its streams and their selection, its bookmarks with a
/// reset, and the audit trail.
extension Console {
    struct StripBar {
        var href: String
        var resultKey: String
        var symbol: String
        var heightClass: String
        var label: String
    }

    struct JobRowModel {
        var name: String
        var href: String
        var trigger: String
        var started: ConsoleTime.Stamp?
        var duration: String?
        var resultKey: String
        var resultText: String
        var symbol: String
        var exits: String
    }

    struct LoadModel {
        var stream: String
        var loadedAt: ConsoleTime.Stamp?
        var records: Int
        var error: String?
    }

    struct StreamModel {
        var tapStreamID: String
        var name: String
        var selected: Bool
    }

    struct EventModel {
        var at: ConsoleTime.Stamp?
        var text: String
        var kind: String
    }

    struct CheckModel {
        var step: String
        var status: String?
        var started: ConsoleTime.Stamp?
        var error: String?
    }

    struct SourceModel {
        var row: SourceRowModel
        var lastStarted: ConsoleTime.Stamp?
        var lastCompleted: ConsoleTime.Stamp?
        var status: String
        var strip: [StripBar]
        var jobs: [JobRowModel]
        var jobTotal: Int
        var loads: [LoadModel]
        var check: CheckModel
        var streams: [StreamModel]
        var hasStreams: Bool
        var state: String?
        var stateTruncated: Bool
        var events: [EventModel]
        var canAct: Bool
        var csrf: String
        var back: String
        var confirmReset: Bool
        var supportsDiscovery: Bool
    }

    static let stripLength = 50

    @Sendable func sourcePage(request: Request, context: TaplineRequestContext) async throws -> Response {
        let session = try viewer(request)
        let id = try Self.sourceID(context)
        let now = api.now()
        guard let overview = try await overviews.overviews().first(where: { $0.id == id }),
            let record = try await store.source(id: id)
        else { throw ConsoleError.notFound("there is no source \(id) (or it was deleted)") }
        let back = "/ui/sources/\(id)"
        let canAct = !session.identity.readOnly
        let row = SourceRowModel(overview, catalog: api.catalog, now: now, canAct: canAct, csrf: session.csrf, back: back)
        let (jobs, total) = try await store.jobs(sourceID: id, page: 1, perPage: Self.stripLength, filter: JobFilter())
        let longest = jobs.compactMap { job in job.completedAt.map { $0.timeIntervalSince(job.startedAt) } }.max() ?? 1
        let strip = jobs.reversed().map { job -> StripBar in
            let seconds = (job.completedAt ?? now).timeIntervalSince(job.startedAt)
            let model = Self.jobRow(job, now: now)
            let scale = log1p(max(0, seconds)) / log1p(max(longest, 1))
            return StripBar(
                href: "/ui/extractions/\(job.jobName)", resultKey: model.resultKey, symbol: model.symbol,
                heightClass: "h\(max(1, min(10, Int((scale * 10).rounded(.up)))))",
                label: "\(model.resultText), \(model.duration ?? "running"), started \(model.started?.text ?? "")")
        }
        let since = now.addingTimeInterval(-60 * 86_400)
        let loads = try await loads(of: id, since: since).map { load in
            LoadModel(
                stream: load.streamName, loadedAt: ConsoleTime.stamp(load.lastBatchLoadedAt, now: now), records: load.records,
                error: load.failure?.message)
        }
        let type = api.catalog[record.type]
        let step = type.map { record.configurationStep(type: $0).rawValue } ?? "type missing from the configuration"
        let lastCheck = try await store.lastConnectionCheck(sourceID: id)
        let check = CheckModel(
            step: step, status: lastCheck?.status, started: ConsoleTime.stamp(lastCheck?.startedAt, now: now),
            error: lastCheck?.discoveryErrorMessage)
        let streams = try await store.streams(sourceID: id).map {
            StreamModel(tapStreamID: $0.stream.tapStreamID, name: $0.stream.streamName, selected: $0.selected == true)
        }
        let state = try await store.state(sourceID: id)
        let stateLimit = 20_000
        let events = try await store.events(sourceID: id).reversed().prefix(200).map { event in
            EventModel(at: ConsoleTime.stamp(event.at, now: now), text: Self.describe(event), kind: event.kind.rawValue)
        }
        let current = overview.running ?? overview.last
        let model = SourceModel(
            row: row, lastStarted: ConsoleTime.stamp(current?.startedAt, now: now),
            lastCompleted: ConsoleTime.stamp(overview.last?.completedAt, now: now),
            status: overview.running != nil ? "Running now" : overview.last.map(SourceRowModel.result) ?? "Never ran",
            strip: strip, jobs: jobs.map { Self.jobRow($0, now: now) }, jobTotal: total, loads: loads, check: check,
            streams: streams, hasStreams: !streams.isEmpty,
            state: state.map { Self.pretty($0, limit: stateLimit) }, stateTruncated: (state?.utf8.count ?? 0) > stateLimit,
            events: Array(events), canAct: canAct, csrf: session.csrf, back: back,
            confirmReset: Self.query(request)["confirm"] == "reset", supportsDiscovery: type?.supportsDiscovery ?? false)
        return .page(renderer.page("source", model, layout: await layout(record.displayName, session: session, live: true)))
    }

    /// The source's latest load of each stream (the account-wide read, kept to this source).
    func loads(of sourceID: Int64, since: Date) async throws -> [StreamLoad] {
        var found: [StreamLoad] = []
        var page = 1
        while page <= 50 {
            let (loads, total) = try await store.loads(since: since, page: page, perPage: 1000)
            found += loads.filter { $0.sourceID == sourceID }
            if page * 1000 >= total || loads.isEmpty { break }
            page += 1
        }
        return found
    }

    static func jobRow(_ job: JobRecord, now: Date) -> JobRowModel {
        let ended = SourceOverview.Job(
            name: job.jobName, status: job.status, startedAt: job.startedAt, completedAt: job.completedAt,
            discoveryExitStatus: job.discoveryExitStatus, tapExitStatus: job.tapExitStatus, targetExitStatus: job.targetExitStatus)
        let model = SourceRowModel.ended(ended, now: now)
        func code(_ value: Int?) -> String { value.map(String.init) ?? "–" }
        return JobRowModel(
            name: job.jobName, href: "/ui/extractions/\(job.jobName)", trigger: job.trigger.rawValue, started: model.started,
            duration: job.status == .running ? ConsoleTime.duration(max(0, now.timeIntervalSince(job.startedAt))) : model.duration,
            resultKey: model.resultKey, resultText: job.status == .running ? "Running now" : model.resultText,
            symbol: model.symbol,
            exits: "discovery \(code(job.discoveryExitStatus)) · tap \(code(job.tapExitStatus)) · target \(code(job.targetExitStatus))")
    }

    /// An audit event as a sentence: "paused by ops: warehouse maintenance".
    static func describe(_ event: SourceEvent) -> String {
        let what: String
        switch event.kind {
        case .created: what = "created"
        case .updated: what = "edited" + (event.detail.map { " (\($0))" } ?? "")
        case .paused: what = "paused"
        case .unpaused: what = "resumed"
        case .deleted: what = "deleted"
        case .skipped: what = "an occurrence skipped" + (event.detail.map { " (\($0))" } ?? "")
        case .systemPaused: what = "system-paused"
        case .systemUnpaused: what = "system pause cleared"
        case .manualStart: what = "run now" + (event.detail.map { " (\($0))" } ?? "")
        case .stopRequested: what = "stop requested" + (event.detail.map { " (\($0))" } ?? "")
        }
        if event.kind == .updated, event.detail == "state", event.reason == "state reset" {
            return "bookmarks reset by \(event.actor)"
        }
        return "\(what) by \(event.actor)" + (event.reason.map { ": \($0)" } ?? "")
    }

    /// JSON text indented for reading, cut at `limit` bytes.
    static func pretty(_ json: String, limit: Int) -> String {
        var text = json
        if let data = json.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
            let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed])
        {
            text = String(decoding: pretty, as: UTF8.self)
        }
        guard text.utf8.count > limit else { return text }
        return String(decoding: Array(text.utf8.prefix(limit)), as: UTF8.self) + "\n…"
    }

    // MARK: Streams and bookmarks

    @Sendable func selectStreams(request: Request, context: TaplineRequestContext) async throws -> Response {
        let fields = try await Self.form(request)
        let session = try changer(request, fields: fields)
        let id = try Self.sourceID(context)
        let back = "/ui/sources/\(id)"
        let wanted = Set(fields.all("selected"))
        let current = try await store.streams(sourceID: id)
        let changes = current.compactMap { record -> (tapStreamID: String, entries: [[String: Any]])? in
            let select = wanted.contains(record.stream.tapStreamID)
            guard (record.selected == true) != select else { return nil }
            return (record.stream.tapStreamID, [["breadcrumb": [String](), "metadata": ["selected": select]]])
        }
        guard !changes.isEmpty else {
            sessions.setFlash(id: session.id, "The selection is unchanged.")
            return .redirect(back)
        }
        do {
            _ = try await store.updateStreamMetadata(sourceID: id, changes: changes, now: api.now())
            let selected = changes.filter { change in wanted.contains(change.tapStreamID) }.count
            try await store.recordRequest(
                sourceID: id, kind: .updated, actor: Actor(session.identity.name), reason: nil,
                detail: "streams: \(selected) selected, \(changes.count - selected) deselected", now: api.now())
            sessions.setFlash(id: session.id, "Stream selection saved: \(selected) selected, \(changes.count - selected) deselected.")
        } catch let error as StreamMetadataError {
            let message: String
            switch error {
            case .invalidTapStreamIDs(let ids): message = "unknown streams: \(ids.joined(separator: ", "))"
            case .discoverableKey(let key): message = "\(key) cannot be changed"
            case .unsupportedField: message = "unsupported fields cannot be selected"
            }
            sessions.setFlash(id: session.id, "Stream selection refused: \(message); nothing was changed.")
        } catch let error as SourceError {
            sessions.setFlash(id: session.id, "Stream selection refused: \(error.message); nothing was changed.")
        }
        overviews.invalidate()
        feed.signal()
        return .redirect(back)
    }

    @Sendable func resetState(request: Request, context: TaplineRequestContext) async throws -> Response {
        let fields = try await Self.form(request)
        let session = try changer(request, fields: fields)
        let id = try Self.sourceID(context)
        let back = "/ui/sources/\(id)"
        guard fields["confirmed"] == "1" else { return .redirect(back + "?confirm=reset#bookmarks") }
        do {
            switch try await store.resetState(sourceID: id, actor: Actor(session.identity.name), now: api.now()) {
            case .jobRunning(let name):
                sessions.setFlash(id: session.id, "Not reset: a job is running (\(name)); stop it or let it end, then reset.")
            case .reset:
                sessions.setFlash(id: session.id, "Bookmarks reset: the next job starts from the source's start date.")
            }
        } catch let error as SourceError {
            sessions.setFlash(id: session.id, "Not reset: \(error.message).")
        }
        return .redirect(back + "#bookmarks")
    }
}
