import Foundation

/// Where the cluster's database is: `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=MODE]`.
///
/// The password never travels in the URL, which ends up in logs, `ps` and shell history; it comes
/// from a file or a systemd credential (`passwordFile`), read at start.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, Equatable {
        /// Plain TCP (a loopback or private network).
        case disable
        /// TLS when the server offers it (libpq's default).
        case prefer
        /// TLS or no connection.
        case require
    }

    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode

    public init(user: String, host: String, port: Int = 5432, database: String, tls: TLSMode = .prefer) {
        self.user = user
        self.host = host
        self.port = port
        self.database = database
        self.tls = tls
    }

    /// The URL without secrets (there are none in it), for logs and errors.
    public var description: String {
        "postgres://\(user)@\(host):\(port)/\(database)" + (tls == .prefer ? "" : "?sslmode=\(tls.rawValue)")
    }

    /// Parses `text`; the error says what is wrong in words an operator can act on.
    public static func parse(_ text: String) throws(PostgresLocationError) -> PostgresLocation {
        let scheme: String
        if text.hasPrefix("postgres://") {
            scheme = "postgres://"
        } else if text.hasPrefix("postgresql://") {
            scheme = "postgresql://"
        } else {
            throw .init("must start with postgres:// (postgres://USER@HOST:PORT/DATABASE)")
        }
        var rest = Substring(text.dropFirst(scheme.count))
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let at = rest.lastIndex(of: "@") else {
            throw .init("names no user (postgres://USER@HOST:PORT/DATABASE)")
        }
        let userPart = rest[..<at]
        guard !userPart.contains(":") else {
            throw .init(
                "carries a password; give it in store_password_file (or the systemd credential store-password) instead, so it stays out of logs"
            )
        }
        guard let user = String(userPart).removingPercentEncoding, !user.isEmpty else {
            throw .init("names no user (postgres://USER@HOST:PORT/DATABASE)")
        }
        let afterUser = rest[rest.index(after: at)...]
        guard let slash = afterUser.firstIndex(of: "/") else {
            throw .init("names no database (postgres://USER@HOST:PORT/DATABASE)")
        }
        let hostPort = afterUser[..<slash]
        guard let database = String(afterUser[afterUser.index(after: slash)...]).removingPercentEncoding,
            !database.isEmpty, !database.contains("/")
        else {
            throw .init("names no database (postgres://USER@HOST:PORT/DATABASE)")
        }
        var host = String(hostPort)
        var port = 5432
        if hostPort.hasPrefix("[") {
            // An IPv6 literal: [::1]:5432
            guard let close = hostPort.firstIndex(of: "]") else { throw .init("has an unclosed [ in its host") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let tail = hostPort[hostPort.index(after: close)...]
            if !tail.isEmpty {
                guard tail.hasPrefix(":"), let value = Int(tail.dropFirst()) else { throw .init("has a bad port") }
                port = value
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            guard let value = Int(hostPort[hostPort.index(after: colon)...]) else { throw .init("has a bad port") }
            port = value
        }
        guard !host.isEmpty else { throw .init("names no host") }
        guard (1...65535).contains(port) else { throw .init("has a port outside 1-65535") }
        var tls = TLSMode.prefer
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0] == "sslmode" else {
                throw .init("has the parameter \(parts[0]); only sslmode=disable|prefer|require is understood")
            }
            guard let mode = TLSMode(rawValue: String(parts[1])) else {
                throw .init("has sslmode=\(parts[1]); use disable, prefer or require")
            }
            tls = mode
        }
        return PostgresLocation(user: user, host: host, port: port, database: database, tls: tls)
    }
}

public struct PostgresLocationError: Error, Equatable, CustomStringConvertible {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { "store URL \(reason)" }
}
