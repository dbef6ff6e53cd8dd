import Foundation
import Logging
import TaplineCore
import Yams

/// Why a configuration could not be loaded. The message names the file and the key.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension TaplineConfiguration {
    /// Loads a YAML configuration file over the embedded defaults. Unknown keys, wrong types and
    /// invalid values are errors naming the key: a typo must not silently fall back to a default.
    public static func load(path: String) throws(ConfigurationError) -> TaplineConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("\(path): cannot read the file: \(error.localizedDescription)")
        }
        return try parse(yaml: text, origin: path)
    }

    /// Parses YAML text (an empty document means all defaults).
    public static func parse(yaml: String, origin: String = "configuration") throws(ConfigurationError)
        -> TaplineConfiguration
    {
        let file: FileShape
        let node: Node
        do {
            // A file with nothing but comments is an empty document: all defaults.
            guard let composed = try Yams.compose(yaml: yaml) else { return TaplineConfiguration() }
            node = composed
            file = try YAMLDecoder().decode(FileShape.self, from: node)
        } catch let error as DecodingError {
            throw ConfigurationError("\(origin): \(Self.describe(error))")
        } catch {
            throw ConfigurationError("\(origin): not valid YAML: \(error)")
        }
        var config = TaplineConfiguration()
        do throws(ConfigurationError) {
            try file.apply(to: &config)
            // Read from the node: target settings keep the types YAML gives them, which
            // Decodable cannot see.
            try DestinationConfiguration.apply(
                types: file.destinationTypes, destination: file.destination, node: node, to: &config)
        } catch {
            throw ConfigurationError("\(origin): \(error.message)")
        }
        return config
    }

    /// A decoding error as `key.path: what is wrong`.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            var out = ""
            for key in keys {
                if let i = key.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + key.stringValue }
            }
            return out.isEmpty ? "(top level)" : out
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(Self.typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(Self.typeName(type)), found nothing"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): required key is missing"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Bool.Type: "true or false"
        default:
            switch String(describing: type) {
            case let name where name.hasSuffix("Scalar"): "a string"
            case let name where name.hasSuffix("Mapping") || name.hasPrefix("Dictionary"): "a mapping of keys to values"
            case let name where name.hasSuffix("Sequence") || name.hasPrefix("Array"): "a list"
            case let name: "a \(name)"
            }
        }
    }
}

/// A coding key for any name, used to find keys that a type does not declare.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension Decoder {
    /// Throws for the first key of the current mapping that `Keys` does not declare.
    func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_: Keys.Type) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        let allowed = Set(Keys.allCases.map(\.stringValue))
        for key in container.allKeys where !allowed.contains(key.stringValue) {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: codingPath + [key],
                    debugDescription: "unknown key (allowed: \(allowed.sorted().joined(separator: ", ")))"))
        }
    }
}

/// The YAML file as written, every key optional.
struct FileShape: Decodable {
    var listen: String?
    var stateDir: String?
    var database: String?
    var tokenFile: String?
    var stitchClientID: Int64?
    var logLevel: String?
    var api: APIShape?
    var sourceTypes: [SourceTypeShape]?
    var scheduler: SchedulerShape?
    var jobs: JobsShape?
    var destination: DestinationShape?
    var destinationTypes: [DestinationTypeShape]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen
        case stateDir = "state_dir"
        case database
        case tokenFile = "token_file"
        case stitchClientID = "stitch_client_id"
        case logLevel = "log_level"
        case api
        case sourceTypes = "source_types"
        case scheduler, jobs, destination
        case destinationTypes = "destination_types"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        listen = try c.decodeIfPresent(String.self, forKey: .listen)
        stateDir = try c.decodeIfPresent(String.self, forKey: .stateDir)
        database = try c.decodeIfPresent(String.self, forKey: .database)
        tokenFile = try c.decodeIfPresent(String.self, forKey: .tokenFile)
        stitchClientID = try c.decodeIfPresent(Int64.self, forKey: .stitchClientID)
        logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel)
        api = try c.decodeIfPresent(APIShape.self, forKey: .api)
        sourceTypes = try c.decodeIfPresent([SourceTypeShape].self, forKey: .sourceTypes)
        scheduler = try c.decodeIfPresent(SchedulerShape.self, forKey: .scheduler)
        jobs = try c.decodeIfPresent(JobsShape.self, forKey: .jobs)
        destination = try c.decodeIfPresent(DestinationShape.self, forKey: .destination)
        destinationTypes = try c.decodeIfPresent([DestinationTypeShape].self, forKey: .destinationTypes)
    }

    func apply(to config: inout TaplineConfiguration) throws(ConfigurationError) {
        if let listen {
            guard let address = ListenAddress(parsing: listen) else {
                throw ConfigurationError("listen: expected HOST:PORT, got \"\(listen)\"")
            }
            config.listen = address
        }
        if let stateDir {
            guard !stateDir.isEmpty else { throw ConfigurationError("state_dir: must not be empty") }
            config.stateDirectory = stateDir
        }
        if let database {
            guard !database.isEmpty else { throw ConfigurationError("database: must not be empty") }
            config.database = database
        }
        if let tokenFile {
            guard !tokenFile.isEmpty else { throw ConfigurationError("token_file: must not be empty") }
            config.tokenFile = tokenFile
        }
        if let stitchClientID {
            guard stitchClientID > 0 else { throw ConfigurationError("stitch_client_id: must be a positive integer") }
            config.stitchClientID = stitchClientID
        }
        if let logLevel {
            guard let level = Logger.Level(rawValue: logLevel) else {
                throw ConfigurationError(
                    "log_level: expected one of trace, debug, info, notice, warning, error, critical; got \"\(logLevel)\"")
            }
            config.logLevel = level
        }
        if let maxBody = api?.maxBodyBytes {
            guard (1024...(64 << 20)).contains(maxBody) else {
                throw ConfigurationError("api.max_body_bytes: must be between 1024 and 67108864")
            }
            config.maxBodyBytes = maxBody
        }
        try api?.apply(to: &config.http)
        try scheduler?.apply(to: &config)
        try jobs?.apply(to: &config)
        if let sourceTypes {
            var seen = Set<String>()
            config.sourceTypes = []
            for (i, shape) in sourceTypes.enumerated() {
                let type = try shape.sourceType(path: "source_types[\(i)]")
                guard seen.insert(type.type).inserted else {
                    throw ConfigurationError("source_types[\(i)].type: \"\(type.type)\" is declared twice")
                }
                config.sourceTypes.append(type)
            }
        }
    }
}

/// `api:` in the configuration file.
struct APIShape: Decodable {
    var maxBodyBytes: Int?
    var idleTimeoutSeconds: Double?
    var bodyTimeoutSeconds: Double?
    var maxConnections: Int?
    var maxHeaderBytes: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxBodyBytes = "max_body_bytes"
        case idleTimeoutSeconds = "idle_timeout_seconds"
        case bodyTimeoutSeconds = "body_timeout_seconds"
        case maxConnections = "max_connections"
        case maxHeaderBytes = "max_header_bytes"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes)
        idleTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .idleTimeoutSeconds)
        bodyTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .bodyTimeoutSeconds)
        maxConnections = try c.decodeIfPresent(Int.self, forKey: .maxConnections)
        maxHeaderBytes = try c.decodeIfPresent(Int.self, forKey: .maxHeaderBytes)
    }

    func apply(to limits: inout HTTPLimits) throws(ConfigurationError) {
        if let idleTimeoutSeconds {
            guard (1...86_400).contains(idleTimeoutSeconds) else {
                throw ConfigurationError("api.idle_timeout_seconds: must be between 1 and 86400")
            }
            limits.idleTimeoutSeconds = idleTimeoutSeconds
        }
        if let bodyTimeoutSeconds {
            guard (1...86_400).contains(bodyTimeoutSeconds) else {
                throw ConfigurationError("api.body_timeout_seconds: must be between 1 and 86400")
            }
            limits.bodyTimeoutSeconds = bodyTimeoutSeconds
        }
        if let maxConnections {
            guard (1...1_000_000).contains(maxConnections) else {
                throw ConfigurationError("api.max_connections: must be between 1 and 1000000")
            }
            limits.maxConnections = maxConnections
        }
        if let maxHeaderBytes {
            guard (1024...(1 << 20)).contains(maxHeaderBytes) else {
                throw ConfigurationError("api.max_header_bytes: must be between 1024 and 1048576")
            }
            limits.maxHeaderBytes = maxHeaderBytes
        }
    }
}
