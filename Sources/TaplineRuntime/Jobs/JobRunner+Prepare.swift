import Dispatch
import Foundation
import Logging
import Synchronization
import TaplineCore
import TaplineStoreContract

#if canImport(Glibc)
    import Glibc
#endif

/// A job could not be prepared for a reason that is not a file-system error.
struct JobPreparationError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension JobRunner {
    /// The boot sweep's part for files: removes every job and connection-check workspace a
    /// previous life left (their configuration holds credentials). Called before any job
    /// starts, when no workspace can belong to a running job. Returns how many were removed.
    @discardableResult
    public func removeLeftoverWorkspaces() -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: settings.jobsDirectory)) ?? []
        for entry in entries { JobWorkspace.remove(settings.workspace(named: entry)) }
        return entries.count
    }

    /// Creates the job's private workspace with the tap's and target's configuration files
    /// (mode 0600: they hold credentials), the catalog and the state, and returns the pipeline
    /// to run in the shared working directory.
    func prepare(_ job: JobRecord, source: SourceRecord, directory: String) throws -> PipelineSpec {
        guard let type = store.catalog[source.type] else {
            throw LaunchError(role: "tap", command: source.type, reason: "the source type is not in the configuration")
        }
        let inputs = try store.jobInputs(sourceID: job.sourceID, withCatalog: type.supportsDiscovery)
        guard let destination = inputs.destination else {
            throw JobPreparationError("there is no destination to load into (it was deleted); create one with POST /v4/destinations")
        }
        guard let destinationType = settings.destinationTypes[destination.type] else {
            throw JobPreparationError("the destination's type \(destination.type) is not in the configuration")
        }
        let workspace = try JobWorkspace.create(directory)
        // One mkdir (EEXIST) per job: a working directory removed by hand would otherwise make
        // every spawn fail as if the tap could not be executed, and system-pause its source.
        try JobWorkspace.makeDirectories(settings.processDirectory)
        // The log (and its source's directory) is created by the relay once the job runs.
        let logDirectory = settings.logDirectory(sourceID: job.sourceID)
        let tapConfig = try workspace.write(Self.tapConfiguration(source: source, type: type), to: "tap-config.json")
        let targetConfig = try workspace.write(
            settings.targetConfigurationFile(
                settings.targetConfig(type: destinationType, properties: destination.properties, credentials: destination.credentials)),
            to: "target-config.json")
        var tapArguments = ["--config", tapConfig]
        if let catalog = inputs.catalog {
            tapArguments += ["--catalog", try workspace.write(Data(catalog.utf8), to: "catalog.json")]
        }
        if let state = inputs.state {
            tapArguments += ["--state", try workspace.write(Data(state.utf8), to: "state.json")]
        }
        var environment = baseEnvironment
        environment["TAPLINE_JOB_NAME"] = job.jobName
        environment["TAPLINE_SOURCE_ID"] = String(job.sourceID)
        return PipelineSpec(
            tap: type.tapCommand + tapArguments,
            target: destinationType.target + ["--config", targetConfig],
            environment: environment, workingDirectory: settings.processDirectory,
            logPath: logDirectory + "/\(job.jobName).log", limits: settings.policy.relayLimits)
    }

    /// The tap's configuration file: the type's defaults, the source's properties and its
    /// credentials, each as the typed value its property declares (`"5432"` of an integer
    /// property is written as `5432`).
    static func tapConfiguration(source: SourceRecord, type: SourceType) throws -> Data {
        var values: [String: String] = [:]
        for spec in type.properties { if let value = spec.defaultValue { values[spec.name] = value } }
        values.merge(source.properties) { $1 }
        values.merge(source.credentials) { $1 }
        var object: [String: Any] = [:]
        for (key, value) in values {
            object[key] = (type.property(named: key)?.configurationValue(value) ?? .string(value)).foundationObject
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }
}
