import Foundation
import TaplineCore

/// `node:` in the configuration file: this daemon's part in a cluster (with `store:`).
struct NodeShape: Decodable {
    var name: String?
    var address: String?
    var leaseSeconds: Double?
    var renewSeconds: Double?
    var reapGraceSeconds: Double?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, address
        case leaseSeconds = "lease_seconds"
        case renewSeconds = "renew_seconds"
        case reapGraceSeconds = "reap_grace_seconds"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        address = try c.decodeIfPresent(String.self, forKey: .address)
        leaseSeconds = try c.decodeIfPresent(Double.self, forKey: .leaseSeconds)
        renewSeconds = try c.decodeIfPresent(Double.self, forKey: .renewSeconds)
        reapGraceSeconds = try c.decodeIfPresent(Double.self, forKey: .reapGraceSeconds)
    }

    func apply(to cluster: inout ClusterSettings) throws(ConfigurationError) {
        if let name {
            // The name is a key of the nodes table and a label of metrics: printable, short.
            guard !name.isEmpty, name.utf8.count <= 63,
                name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
            else {
                throw ConfigurationError("node.name: 1 to 63 letters, digits, '-', '_' or '.'; got \"\(name)\"")
            }
            cluster.nodeName = name
        }
        if let address {
            guard ListenAddress(parsing: address) != nil else {
                throw ConfigurationError("node.address: expected HOST:PORT, got \"\(address)\"")
            }
            cluster.advertisedAddress = address
        }
        if let leaseSeconds {
            guard leaseSeconds.isFinite, (3...3600).contains(leaseSeconds) else {
                throw ConfigurationError("node.lease_seconds: must be between 3 and 3600")
            }
            cluster.leaseSeconds = leaseSeconds
        }
        if let renewSeconds {
            guard renewSeconds.isFinite, (0.1...600).contains(renewSeconds) else {
                throw ConfigurationError("node.renew_seconds: must be between 0.1 and 600")
            }
            cluster.renewSeconds = renewSeconds
        }
        if let reapGraceSeconds {
            guard reapGraceSeconds.isFinite, (0...3600).contains(reapGraceSeconds) else {
                throw ConfigurationError("node.reap_grace_seconds: must be between 0 and 3600")
            }
            cluster.reapGraceSeconds = reapGraceSeconds
        }
    }
}
