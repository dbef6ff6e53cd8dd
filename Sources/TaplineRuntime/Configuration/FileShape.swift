import Foundation
import Logging
import TaplineCore
import Yams

/// The YAML file as written, every key optional.
struct FileShape: Decodable {
    var listen: String?
    var stateDir: String?
    var database: String?
    var store: String?
    var storePasswordFile: String?
    var node: NodeShape?
    var tokenFile: String?
    var credentialsKeyFile: String?
    var stitchClientID: Int64?
    var logLevel: String?
    var api: APIShape?
    var sourceTypes: [SourceTypeShape]?
    var scheduler: SchedulerShape?
    var jobs: JobsShape?
    var destination: DestinationShape?
    var destinationTypes: [DestinationTypeShape]?
    var notifications: NotificationsShape?
    var plugins: PluginsShape?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen
        case stateDir = "state_dir"
        case database, store
        case storePasswordFile = "store_password_file"
        case node
        case tokenFile = "token_file"
        case credentialsKeyFile = "credentials_key_file"
        case stitchClientID = "stitch_client_id"
        case logLevel = "log_level"
        case api
        case sourceTypes = "source_types"
        case scheduler, jobs, destination
        case destinationTypes = "destination_types"
        case notifications, plugins
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        listen = try c.decodeIfPresent(String.self, forKey: .listen)
        stateDir = try c.decodeIfPresent(String.self, forKey: .stateDir)
        database = try c.decodeIfPresent(String.self, forKey: .database)
        store = try c.decodeIfPresent(String.self, forKey: .store)
        storePasswordFile = try c.decodeIfPresent(String.self, forKey: .storePasswordFile)
        node = try c.decodeIfPresent(NodeShape.self, forKey: .node)
        tokenFile = try c.decodeIfPresent(String.self, forKey: .tokenFile)
        credentialsKeyFile = try c.decodeIfPresent(String.self, forKey: .credentialsKeyFile)
        stitchClientID = try c.decodeIfPresent(Int64.self, forKey: .stitchClientID)
        logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel)
        api = try c.decodeIfPresent(APIShape.self, forKey: .api)
        sourceTypes = try c.decodeIfPresent([SourceTypeShape].self, forKey: .sourceTypes)
        scheduler = try c.decodeIfPresent(SchedulerShape.self, forKey: .scheduler)
        jobs = try c.decodeIfPresent(JobsShape.self, forKey: .jobs)
        destination = try c.decodeIfPresent(DestinationShape.self, forKey: .destination)
        destinationTypes = try c.decodeIfPresent([DestinationTypeShape].self, forKey: .destinationTypes)
        notifications = try c.decodeIfPresent(NotificationsShape.self, forKey: .notifications)
        plugins = try c.decodeIfPresent(PluginsShape.self, forKey: .plugins)
    }

    func apply(to config: inout TaplineConfiguration) throws(ConfigurationError) {
        if let listen {
            config.listen = try ListenAddress.parse(listen, origin: "listen")
        }
        if let stateDir {
            guard !stateDir.isEmpty else { throw ConfigurationError("state_dir: must not be empty") }
            config.stateDirectory = stateDir
        }
        if let database {
            guard !database.isEmpty else { throw ConfigurationError("database: must not be empty") }
            config.database = database
        }
        try applyStore(to: &config)
        if let tokenFile {
            guard !tokenFile.isEmpty else { throw ConfigurationError("token_file: must not be empty") }
            config.tokenFile = tokenFile
        }
        if let credentialsKeyFile {
            guard !credentialsKeyFile.isEmpty else { throw ConfigurationError("credentials_key_file: must not be empty") }
            config.credentialsKeyFile = credentialsKeyFile
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
        try notifications?.apply(to: &config.notifications)
        try plugins?.apply(to: &config.pluginSettings)
        if let cluster = config.cluster,
            let problem = cluster.leaseTimings(stopGrace: config.jobs.stopGraceSeconds).problem
        {
            throw ConfigurationError("node: \(problem) (jobs.stop_grace_seconds)")
        }
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

extension FileShape {
    /// `store:`, `store_password_file:` and `node:`: the PostgreSQL store of a cluster, or none.
    fileprivate func applyStore(to config: inout TaplineConfiguration) throws(ConfigurationError) {
        guard let store else {
            if storePasswordFile != nil {
                throw ConfigurationError("store_password_file: applies only with store: postgres://USER@HOST:PORT/DATABASE")
            }
            if node != nil { throw ConfigurationError("node: applies only with store: postgres://USER@HOST:PORT/DATABASE") }
            return
        }
        guard database == nil else {
            throw ConfigurationError(
                "database: names the SQLite file, which a store: postgres://… daemon does not use; remove one of the two")
        }
        let location: PostgresLocation
        do {
            location = try PostgresLocation.parse(store)
        } catch {
            throw ConfigurationError("store: \(error.reason)")
        }
        var cluster = ClusterSettings(location: location)
        if let storePasswordFile {
            guard !storePasswordFile.isEmpty else { throw ConfigurationError("store_password_file: must not be empty") }
            cluster.passwordFile = storePasswordFile
        }
        try node?.apply(to: &cluster)
        config.cluster = cluster
    }
}
