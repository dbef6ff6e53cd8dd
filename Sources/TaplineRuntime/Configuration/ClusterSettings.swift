import Foundation
import TaplineCore

#if canImport(Glibc)
    import Glibc
#endif

/// How this daemon takes part in a cluster (`store: postgres://…` and `node:`). `nil` in the
/// configuration: the embedded SQLite store, one node, as without a cluster.
public struct ClusterSettings: Sendable, Equatable {
    /// The shared database. Its password is never in the URL (`passwordFile`).
    public var location: PostgresLocation
    /// The file holding the database password (one line); `nil`: the systemd credential
    /// `store-password` when `$CREDENTIALS_DIRECTORY` has it, else no password (trust or peer
    /// authentication).
    public var passwordFile: String?
    /// This node's name in the `nodes` table: stable across restarts, one per machine. `nil`:
    /// the host name.
    public var nodeName: String?
    /// The API address other nodes and people reach this node at, recorded with its lease.
    /// `nil`: the address it listens on.
    public var advertisedAddress: String?
    /// The lease length and renewal period (`node.lease_seconds`, `node.renew_seconds`); the stop
    /// grace comes from `jobs.stop_grace_seconds` when the daemon is composed.
    public var leaseSeconds: Double = 30
    public var renewSeconds: Double = 5
    /// How long after a node's lease ran out the others end its running jobs as `interrupted`:
    /// room for the clocks of two machines, on top of the lease the node itself counts short.
    public var reapGraceSeconds: Double = 5

    public init(location: PostgresLocation) {
        self.location = location
    }

    /// The systemd credential the password is read from when no file is configured.
    public static let passwordCredential = "store-password"

    /// The node name after defaults: the configured one, else the host name.
    public var resolvedNodeName: String { nodeName ?? Self.hostName ?? "tapline" }

    /// This machine's host name (`nil` if it has none): the default node name, and the host
    /// recorded for a node that listens on a wildcard address.
    public static var hostName: String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return nil }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? nil : name
    }

    /// The password file after defaults, or `nil` when there is none to read.
    public func resolvedPasswordFile(environment: [String: String]) -> String? {
        if let passwordFile { return passwordFile }
        if let credentials = environment["CREDENTIALS_DIRECTORY"] {
            let path = (credentials as NSString).appendingPathComponent(Self.passwordCredential)
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        return nil
    }

    /// The lease timings a node with this job stop grace keeps.
    public func leaseTimings(stopGrace: Double) -> LeaseTimings {
        LeaseTimings(duration: leaseSeconds, renewInterval: renewSeconds, stopGrace: stopGrace)
    }
}
