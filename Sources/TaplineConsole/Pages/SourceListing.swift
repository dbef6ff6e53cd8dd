import Foundation
import TaplineCore
import TaplineStoreContract

/// The sources list's filters, search, sort and page, read from the query string: pure, so the
/// same rules serve the page, the bulk action's "everything this filter matches" and the tests.
struct SourceListQuery: Sendable, Equatable {
    /// What the state filter keeps. `failed` is "the last run that ended failed"; `failed24h` is
    /// "any run failed in the last 24 hours", even if a later one succeeded.
    enum StateFilter: String, Sendable, CaseIterable {
        case all, running, scheduled, paused
        case systemPaused = "system_paused"
        case unscheduled, failed
        case failed24h = "failed_24h"

        var label: String {
            switch self {
            case .all: "All"
            case .running: "Running now"
            case .scheduled: "Scheduled"
            case .paused: "Paused"
            case .systemPaused: "System-paused"
            case .unscheduled: "Not scheduled"
            case .failed: "Last run failed"
            case .failed24h: "Any run failed in the last 24 h"
            }
        }
    }

    enum Sort: String, Sendable, CaseIterable {
        case name
        case lastRun = "last"
        case nextRun = "next"

        var label: String {
            switch self {
            case .name: "Name"
            case .lastRun: "Last run (newest first)"
            case .nextRun: "Next run (soonest first)"
            }
        }
    }

    var state: StateFilter = .all
    var search = ""
    var sort: Sort = .name
    var page = 1
    var perPage = 50

    static let maxPerPage = 200

    init() {}

    init(_ fields: FormFields) {
        state = fields["state"].flatMap(StateFilter.init(rawValue:)) ?? .all
        search = String((fields["q"] ?? "").trimmingCharacters(in: .whitespaces).prefix(200))
        sort = fields["sort"].flatMap(Sort.init(rawValue:)) ?? .name
        page = max(1, min(1_000_000, fields["page"].flatMap(Int.init) ?? 1))
        perPage = max(1, min(Self.maxPerPage, fields["per_page"].flatMap(Int.init) ?? 50))
    }

    /// The query string that reproduces this query (defaults left out), with `page` replaced.
    func encoded(page: Int? = nil) -> String {
        var pairs: [(String, String)] = []
        if state != .all { pairs.append(("state", state.rawValue)) }
        if !search.isEmpty { pairs.append(("q", search)) }
        if sort != .name { pairs.append(("sort", sort.rawValue)) }
        if perPage != 50 { pairs.append(("per_page", String(perPage))) }
        let target = page ?? self.page
        if target != 1 { pairs.append(("page", String(target))) }
        return FormFields(pairs).encoded
    }

    /// The fields a form repeats to act on "everything this filter matches".
    var filterFields: [(name: String, value: String)] {
        var fields: [(String, String)] = [("state", state.rawValue), ("sort", sort.rawValue)]
        if !search.isEmpty { fields.append(("q", search)) }
        return fields.map { (name: $0.0, value: $0.1) }
    }
}

/// What the list shows of each source's state: its pause state (one of four) apart from
/// whether a job runs now and how the last one ended.
enum SourceState: String, Sendable {
    case scheduled, paused
    case systemPaused = "system_paused"
    case unscheduled

    init(_ source: SourceOverview) {
        if source.pausedAt != nil {
            self = .paused
        } else if source.systemPausedAt != nil {
            self = .systemPaused
        } else if source.nextFireAt != nil {
            self = .scheduled
        } else {
            self = .unscheduled
        }
    }

    var label: String {
        switch self {
        case .scheduled: "Scheduled"
        case .paused: "Paused"
        case .systemPaused: "System-paused"
        case .unscheduled: "Not scheduled"
        }
    }
}

/// The counts at the top of the list (over every live source, whatever the filter).
struct SourceCounts: Sendable, Equatable {
    var total = 0
    var running = 0
    var scheduled = 0
    var paused = 0
    var systemPaused = 0
    var unscheduled = 0
    var lastFailed = 0
    var failed24h = 0
}

/// The list's rows with what every page computes from them prepared once per read: the
/// lowercased text a search looks in and the order by name. 32 consoles refreshing a list of
/// 10,000 sources then filter and slice, instead of lowercasing and sorting 10,000 names each.
struct PreparedOverviews: Sendable {
    let rows: [SourceOverview]
    let searchText: [String]
    /// Indexes of `rows` by display name (case-insensitive), then id.
    let byName: [Int]

    init(_ rows: [SourceOverview]) {
        self.rows = rows
        let names = rows.map { $0.displayName.lowercased() }
        searchText = rows.indices.map { names[$0] + "\u{1}" + rows[$0].name.lowercased() + "\u{1}" + rows[$0].type.lowercased() }
        byName = rows.indices.sorted { (names[$0], rows[$0].id) < (names[$1], rows[$1].id) }
    }
}

/// A page of the list and everything the filter matched.
struct SourceListing: Sendable {
    var counts: SourceCounts
    /// Every source the filter and search match, in the query's order.
    var matching: [SourceOverview]
    var page: [SourceOverview]
    var pageCount: Int

    static func lastFailed(_ source: SourceOverview) -> Bool { source.last?.status == .failed }

    static func failedWithinDay(_ source: SourceOverview, now: Date) -> Bool {
        guard let failed = source.lastFailureAt else { return false }
        return failed > now.addingTimeInterval(-86_400)
    }

    static func make(_ sources: [SourceOverview], query: SourceListQuery, now: Date) -> SourceListing {
        make(PreparedOverviews(sources), query: query, now: now)
    }

    static func make(_ prepared: PreparedOverviews, query: SourceListQuery, now: Date) -> SourceListing {
        let sources = prepared.rows
        var counts = SourceCounts()
        for source in sources {
            counts.total += 1
            if source.running != nil { counts.running += 1 }
            switch SourceState(source) {
            case .scheduled: counts.scheduled += 1
            case .paused: counts.paused += 1
            case .systemPaused: counts.systemPaused += 1
            case .unscheduled: counts.unscheduled += 1
            }
            if lastFailed(source) { counts.lastFailed += 1 }
            if failedWithinDay(source, now: now) { counts.failed24h += 1 }
        }
        let needle = query.search.lowercased()
        func kept(_ index: Int) -> Bool {
            let source = sources[index]
            let kept: Bool
            switch query.state {
            case .all: kept = true
            case .running: kept = source.running != nil
            case .scheduled: kept = SourceState(source) == .scheduled
            case .paused: kept = SourceState(source) == .paused
            case .systemPaused: kept = SourceState(source) == .systemPaused
            case .unscheduled: kept = SourceState(source) == .unscheduled
            case .failed: kept = lastFailed(source)
            case .failed24h: kept = failedWithinDay(source, now: now)
            }
            guard kept else { return false }
            return needle.isEmpty || prepared.searchText[index].contains(needle)
        }
        var order = prepared.byName.filter(kept)
        switch query.sort {
        case .name:
            break
        case .lastRun:
            // Newest start first, a running job counting as the newest start; never run: last, by id.
            func started(_ i: Int) -> Date { sources[i].running?.startedAt ?? sources[i].last?.startedAt ?? .distantPast }
            order.sort { (started($0), sources[$1].id) > (started($1), sources[$0].id) }
        case .nextRun:
            // Soonest due first; not due at all: last.
            order.sort {
                (sources[$0].nextFireAt ?? .distantFuture, sources[$0].id) < (sources[$1].nextFireAt ?? .distantFuture, sources[$1].id)
            }
        }
        let matching = order.map { sources[$0] }
        let pageCount = max(1, (matching.count + query.perPage - 1) / query.perPage)
        let page = min(query.page, pageCount)
        let start = (page - 1) * query.perPage
        let slice = Array(matching[min(start, matching.count)..<min(start + query.perPage, matching.count)])
        return SourceListing(counts: counts, matching: matching, page: slice, pageCount: pageCount)
    }
}
