import Foundation
import Logging
import PostgresNIO

/// Who a node is: its configured name (stable across restarts), this process's life
/// (`instance`, new at each start) and the API address other nodes and people reach it at.
public struct NodeIdentity: Sendable, Equatable {
    public var name: String
    public var instance: UUID
    public var address: String

    public init(name: String, instance: UUID = UUID(), address: String) {
        self.name = name
        self.instance = instance
        self.address = address
    }
}

/// A row of `nodes`, as the cluster sees it.
public struct ClusterMember: Sendable, Equatable {
    public var name: String
    public var epoch: Int64
    public var instance: UUID
    public var address: String
    public var joinedAt: Date
    public var renewedAt: Date
    public var leaseExpiresAt: Date
    public var leftAt: Date?
}

public enum JoinResult: Sendable, Equatable {
    /// The node holds the name with this epoch and a lease of the requested length.
    case joined(epoch: Int64)
    /// Another process holds the name with a lease that has not expired: two nodes configured
    /// with one name, or this node's previous life killed a moment ago. Try again after `until`.
    case heldByAnother(instance: UUID, until: Date)
}

/// Membership of the cluster through leases in the `nodes` table. Every time is the
/// database's `now()`, so the nodes' wall clocks never decide who is alive.
public struct ClusterMembership: Sendable {
    let database: ClusterDatabase

    public init(database: ClusterDatabase) {
        self.database = database
    }

    /// Takes the node's name with a new epoch and a lease of `lease` seconds, unless another
    /// process holds it with a lease still running. A name whose lease expired or that left is
    /// taken over; the same instance joining again keeps going with a new epoch.
    public func join(_ node: NodeIdentity, lease: Double) async throws -> JoinResult {
        let logger = database.logger
        return try await database.transaction { connection -> JoinResult in
            let rows = try await connection.query(
                """
                INSERT INTO nodes AS n (name, epoch, instance, address, joined_at, renewed_at, lease_expires_at)
                VALUES (\(node.name), 1, \(node.instance), \(node.address), now(), now(), now() + make_interval(secs => \(lease)))
                ON CONFLICT (name) DO UPDATE SET
                    epoch = n.epoch + 1, instance = EXCLUDED.instance,
                    address = CASE WHEN n.instance = EXCLUDED.instance THEN n.address ELSE EXCLUDED.address END, joined_at = now(),
                    renewed_at = now(), lease_expires_at = EXCLUDED.lease_expires_at, left_at = NULL
                WHERE n.lease_expires_at <= now() OR n.left_at IS NOT NULL OR n.instance = EXCLUDED.instance
                RETURNING epoch
                """, logger: logger)
            for try await epoch in rows.decode(Int64.self) { return .joined(epoch: epoch) }
            let holder = try await connection.query(
                "SELECT instance, lease_expires_at FROM nodes WHERE name = \(node.name)", logger: logger)
            for try await (instance, until) in holder.decode((UUID, Date).self) {
                return .heldByAnother(instance: instance, until: until)
            }
            throw ClusterError.unexpected("node \(node.name) neither joined nor held")
        }
    }

    /// Extends the lease of `name` at `epoch` to `lease` seconds from now. `false`: the lease is
    /// gone (it expired, the node left, or a later life took the name); the node must fence
    /// itself and join again.
    public func renew(name: String, epoch: Int64, lease: Double) async throws -> Bool {
        try await database.query(
            """
            UPDATE nodes SET renewed_at = now(), lease_expires_at = now() + make_interval(secs => \(lease))
            WHERE name = \(name) AND epoch = \(epoch) AND left_at IS NULL AND lease_expires_at > now()
            RETURNING epoch
            """
        ) { rows in
            for try await _ in rows.decode(Int64.self) { return true }
            return false
        }
    }

    /// Records the address this life of the node serves its API at, once it is known (a node
    /// listening on port 0 learns its port only when it listens). A later join of the same life
    /// keeps it; a new life records its own.
    public func advertise(_ node: NodeIdentity, address: String) async throws {
        try await database.execute("UPDATE nodes SET address = \(address) WHERE name = \(node.name) AND instance = \(node.instance)")
    }

    /// Gives the lease back at a clean stop, so the others need not wait for it to expire.
    public func leave(name: String, epoch: Int64) async throws {
        try await database.execute(
            "UPDATE nodes SET left_at = now(), lease_expires_at = greatest(renewed_at, now()) WHERE name = \(name) AND epoch = \(epoch) AND left_at IS NULL"
        )
    }

    /// Every node that ever joined, by name.
    public func members() async throws -> [ClusterMember] {
        try await database.query(
            "SELECT name, epoch, instance, address, joined_at, renewed_at, lease_expires_at, left_at FROM nodes ORDER BY name"
        ) { rows in
            var members: [ClusterMember] = []
            for try await (name, epoch, instance, address, joined, renewed, expires, left) in rows.decode(
                (String, Int64, UUID, String, Date, Date, Date, Date?).self)
            {
                members.append(
                    ClusterMember(
                        name: name, epoch: epoch, instance: instance, address: address, joinedAt: joined, renewedAt: renewed,
                        leaseExpiresAt: expires, leftAt: left))
            }
            return members
        }
    }

    /// Nodes whose lease ran out more than `grace` seconds ago without a clean leave: the
    /// cluster believes them dead (their jobs are to be interrupted, their schedule taken).
    public func expired(grace: Double) async throws -> [(name: String, epoch: Int64)] {
        try await database.query(
            "SELECT name, epoch FROM nodes WHERE left_at IS NULL AND lease_expires_at + make_interval(secs => \(grace)) < now() ORDER BY name"
        ) { rows in
            var dead: [(name: String, epoch: Int64)] = []
            for try await (name, epoch) in rows.decode((String, Int64).self) { dead.append((name, epoch)) }
            return dead
        }
    }
}

extension ClusterMembership {
    /// A dead node's life whose running jobs were ended by `reapExpired`.
    public struct Reaped: Sendable, Equatable {
        public var name: String
        public var epoch: Int64
        public var interruptedJobs: Int
    }

    /// Ends, as `interrupted`, the running jobs of every node whose lease ran out more than
    /// `grace` seconds ago without a leave, once per epoch, in one transaction. A node row that
    /// a claim holds `FOR SHARE` at that moment is skipped (`SKIP LOCKED`), so a claim in
    /// progress is never cut in half; the next reap takes it. The dead node itself stopped those
    /// jobs before its lease ran out (its fence), so nothing still runs them.
    public func reapExpired(grace: Double) async throws -> [Reaped] {
        try await database.transaction { connection -> [Reaped] in
            var dead: [(String, Int64)] = []
            for try await row in try await connection.query(
                """
                SELECT name, epoch FROM nodes
                WHERE left_at IS NULL AND lease_expires_at + make_interval(secs => \(grace)) < now()
                    AND reaped_epoch IS DISTINCT FROM epoch
                ORDER BY name
                FOR UPDATE SKIP LOCKED
                """, logger: database.logger
            ).decode((String, Int64).self) {
                dead.append(row)
            }
            var reaped: [Reaped] = []
            for (name, epoch) in dead {
                var count = 0
                for try await _ in try await connection.query(
                    """
                    UPDATE jobs SET status = 'interrupted', completed_at = now(), discovery_description = 'Interrupted',
                        tap_description = 'Interrupted', target_description = 'Interrupted'
                    WHERE node = \(name) AND node_epoch = \(epoch) AND status = 'running'
                    RETURNING id
                    """, logger: database.logger
                ).decode(Int64.self) {
                    count += 1
                }
                try await connection.query(
                    "UPDATE nodes SET reaped_epoch = epoch WHERE name = \(name) AND epoch = \(epoch)", logger: database.logger)
                reaped.append(Reaped(name: name, epoch: epoch, interruptedJobs: count))
            }
            return reaped
        }
    }
}

public enum ClusterError: Error, CustomStringConvertible {
    case unexpected(String)

    public var description: String {
        switch self {
        case .unexpected(let what): "unexpected cluster state: \(what)"
        }
    }
}

extension ClusterMembership {
    /// A node serving on the database now (its lease running, by the database's clock, as
    /// `node_status` says), the first by name, if any: what a change that every node must see
    /// at its start (a move into the cluster, a new credentials key) must not run beside.
    static func servingNode(_ connection: PostgresConnection, logger: Logger) async throws -> (name: String, until: Date)? {
        for try await (name, until) in try await connection.query(
            "SELECT name, lease_expires_at FROM node_status WHERE state = 'serving' ORDER BY name LIMIT 1", logger: logger
        ).decode((String, Date).self) {
            return (name, until)
        }
        return nil
    }
}
