import Foundation
import Synchronization
import TaplineAPI

/// The console's server-side sessions: a browser signs in with an API token once and then holds
/// only a random session id in an `HttpOnly` cookie; the token stays in this process's memory
/// (to relay a log from another node of a cluster) and never reaches a page, a URL or a log.
///
/// Sessions live in memory: a restart signs everyone out, which is the safe direction. A session
/// ends on sign-out, after `idleLimit` without a request, or `absoluteLimit` after sign-in; past
/// `capacity` sessions the oldest is ended, so no number of sign-ins grows memory without bound.
final class ConsoleSessions: Sendable {
    struct Session: Sendable, Equatable {
        var id: String
        var identity: TokenSet.Identity
        /// The token signed in with, for relaying to other nodes only.
        var token: String
        /// Every state-changing request carries it (a hidden field or `X-CSRF-Token`).
        var csrf: String
        var createdAt: Date
        var lastSeen: Date
        /// A one-line result of the last action, shown once by the next page.
        var flash: String?
    }

    let idleLimit: TimeInterval
    let absoluteLimit: TimeInterval
    let capacity: Int
    private let table = Mutex<[String: Session]>([:])

    init(idleLimit: TimeInterval = 8 * 3600, absoluteLimit: TimeInterval = 24 * 3600, capacity: Int = 10_000) {
        self.idleLimit = idleLimit
        self.absoluteLimit = absoluteLimit
        self.capacity = capacity
    }

    func create(identity: TokenSet.Identity, token: String, now: Date) -> Session {
        let session = Session(
            id: Self.randomHex(32), identity: identity, token: token, csrf: Self.randomHex(32), createdAt: now, lastSeen: now)
        table.withLock { sessions in
            if sessions.count >= capacity {
                let expired = sessions.values.filter { !isLive($0, now: now) }.map(\.id)
                for id in expired { sessions[id] = nil }
                if sessions.count >= capacity, let oldest = sessions.values.min(by: { $0.lastSeen < $1.lastSeen }) {
                    sessions[oldest.id] = nil
                }
            }
            sessions[session.id] = session
        }
        return session
    }

    /// The live session `id`, marked as seen now; an expired one is ended.
    func session(id: String, now: Date) -> Session? {
        table.withLock { sessions in
            guard var session = sessions[id] else { return nil }
            guard isLive(session, now: now) else {
                sessions[id] = nil
                return nil
            }
            session.lastSeen = now
            sessions[id] = session
            return session
        }
    }

    /// Whether session `id` is live, without counting this as its use (a page left open does
    /// not keep a session alive).
    func isLive(id: String, now: Date) -> Bool {
        table.withLock { sessions in sessions[id].map { isLive($0, now: now) } ?? false }
    }

    /// Keeps `text` to show on the session's next page.
    func setFlash(id: String, _ text: String) {
        table.withLock { $0[id]?.flash = text }
    }

    /// The flash kept for the session, removed as it is taken.
    func takeFlash(id: String) -> String? {
        table.withLock { sessions in
            defer { sessions[id]?.flash = nil }
            return sessions[id]?.flash
        }
    }

    func end(id: String) {
        _ = table.withLock { $0.removeValue(forKey: id) }
    }

    var count: Int { table.withLock { $0.count } }

    private func isLive(_ session: Session, now: Date) -> Bool {
        now.timeIntervalSince(session.lastSeen) < idleLimit && now.timeIntervalSince(session.createdAt) < absoluteLimit
    }

    static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var hex = ""
        hex.reserveCapacity(bytes * 2)
        for _ in 0..<bytes {
            let byte = UInt8.random(in: 0...255, using: &generator)
            hex += String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
        }
        return hex
    }

    /// Compares two CSRF tokens in constant time.
    static func sameToken(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = x.count ^ y.count
        for i in 0..<max(x.count, y.count) {
            difference |= Int((i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0))
        }
        return difference == 0
    }
}
