import Foundation
import Synchronization

extension CronExpression {
    /// The first fire time strictly after `date`, with the fields read as the wall-clock time of
    /// `zone` (a source's `cron_timezone`).
    ///
    /// The search runs on wall-clock time (the fields match local time) and maps each match back
    /// to an instant. Daylight-saving rules, as written in the README:
    /// - **Spring forward.** A wall time in the gap does not exist; it fires once, at the first
    ///   valid instant (the transition itself, the first second after the gap). Several times in
    ///   one gap (a minutely schedule) fire once together there.
    /// - **Fall back.** A wall time that occurs twice fires once, at its first occurrence; the
    ///   repeated hour is not run again (wall times already shown are never matched twice).
    /// Quartz instead shifts a time in the gap by the gap's length (02:30 becomes 03:30), which can
    /// fire later than a real occurrence; tapline fires at 03:00 (the test lists each case).
    public func nextFire(after date: Date, in zone: TimeZone) -> Date? {
        if ZonedWallClock.isUTC(zone) { return nextFire(after: date) }
        var floor = ZonedWallClock.wallReached(at: date, in: zone)
        // Each pass either answers or moves the floor past a wall time that maps only to instants
        // at or before `date` (the first pass of a repeated hour), so a few passes suffice.
        for _ in 0..<8 {
            guard let wall = nextFire(after: floor) else { return nil }
            switch ZonedWallClock.resolve(wall, in: zone) {
            case .instants(let instants):
                if let first = instants.first(where: { $0 > date }) { return first }
            case .gap(let transition):
                if transition > date { return transition }
            }
            floor = wall
        }
        return nil
    }
}

/// Wall-clock time of a zone as instants on a UTC time line ("the instant whose UTC fields are the
/// local fields"), so the UTC cron search can run on local time. Pure: the zone's rules come from
/// Foundation's time-zone data.
enum ZonedWallClock {
    /// Farther than any offset change is long (they are at most a day), closer than two changes
    /// of one zone ever are.
    static let lookaround: TimeInterval = 26 * 3600

    static func isUTC(_ zone: TimeZone) -> Bool {
        zone.identifier == "UTC" || zone.identifier == "GMT" || zone.identifier == "Etc/UTC"
    }

    static func offset(_ t: Date, _ zone: TimeZone) -> TimeInterval { TimeInterval(zone.secondsFromGMT(for: t)) }

    static func wall(_ t: Date, _ zone: TimeZone) -> Date { t.addingTimeInterval(offset(t, zone)) }

    /// The latest wall time the zone has shown at or before `t`: after the clocks went back, the
    /// time just before they did, until the wall clock passes it again.
    static func wallReached(at t: Date, in zone: TimeZone) -> Date {
        let now = wall(t, zone)
        let before = t.addingTimeInterval(-lookaround)
        let earlierOffset = offset(before, zone)
        guard earlierOffset > offset(t, zone) else { return now }
        let change = firstChange(after: before, through: t, zone)
        // The last whole second before the change, on the earlier offset.
        return max(now, change.addingTimeInterval(earlierOffset - 1))
    }

    enum Resolution: Equatable {
        /// The instants showing this wall time, earliest first (two in a repeated hour).
        case instants([Date])
        /// The wall time does not exist; the clocks jumped over it at this instant.
        case gap(Date)
    }

    static func resolve(_ wall: Date, in zone: TimeZone) -> Resolution {
        let guess = wall.addingTimeInterval(-offset(wall, zone))
        let offsets = Set([-lookaround, 0, lookaround].map { offset(guess.addingTimeInterval($0), zone) })
        let instants = offsets.map { wall.addingTimeInterval(-$0) }.filter { offset($0, zone) == wall.timeIntervalSince($0) }
        if !instants.isEmpty { return .instants(instants.sorted()) }
        // In a gap: before the change the larger offset's instant lies earlier than the change
        // and shows a wall time before this one; the smaller offset's lies after it.
        guard let low = offsets.min(), let high = offsets.max(), low != high else { return .instants([guess]) }
        return .gap(firstChange(after: wall.addingTimeInterval(-high), through: wall.addingTimeInterval(-low), zone))
    }

    /// The first whole second in `(after, through]` whose offset differs from `after`'s (there is
    /// one: the caller saw the offsets differ).
    static func firstChange(after start: Date, through end: Date, _ zone: TimeZone) -> Date {
        let startOffset = offset(start, zone)
        var lo = start.timeIntervalSince1970.rounded(.down)
        var hi = end.timeIntervalSince1970.rounded(.up)
        while hi - lo > 1 {
            let mid = ((lo + hi) / 2).rounded(.down)
            if offset(Date(timeIntervalSince1970: mid), zone) == startOffset { lo = mid } else { hi = mid }
        }
        return Date(timeIntervalSince1970: hi)
    }
}

/// The IANA time zones a source's `cron_timezone` may name, resolved once each.
public enum CronTimeZone {
    /// `UTC` (the default, as in Stitch) or a name of the IANA database (`Europe/Berlin`), spelled
    /// exactly as the database does: no abbreviations (`CEST`) and no offsets (`GMT+1`, `+02:00`),
    /// which Foundation would otherwise turn into a fixed offset under another name.
    public static func named(_ name: String) -> TimeZone? {
        if let cached = cache.withLock({ $0[name] }) { return cached }
        guard let zone = TimeZone(identifier: name), zone.identifier == name || name == "UTC" else { return nil }
        cache.withLock { cache in
            if cache.count >= 1024 { cache.removeAll() }
            cache[name] = zone
        }
        return zone
    }

    private static let cache = Mutex<[String: TimeZone]>([:])
}
