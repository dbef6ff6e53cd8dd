import Foundation
import Logging
import TaplineCore
import TaplineStore
import TaplineStoreContract
import Testing

@testable import TaplineRuntime

#if canImport(Glibc)
    import Glibc
    import TaplineTestSupport
#endif

/// What a restart finds after `kill -9` at any instant: no process and no workspace of an
/// interrupted job may survive it.
@Suite("Boot sweep")
struct BootSweepTests {
    static let type = SourceType(type: "platform.t", displayName: "T", tapCommand: ["true"])

    @Test("a process of a job whose spawn was never recorded is found by its job name and killed")
    func unrecordedSpawn() async throws {
        let store = try Store.inMemory(catalog: SourceTypeCatalog([Self.type])).withTestDestination()
        let source = try await store.createSource(
            NewSource(
                type: "platform.t", displayName: "S", name: "s", nameWasDerived: false, changes: PropertyChanges(), destinationID: nil),
            actor: Actor("t"), now: Date())
        let name = "1.\(source.id).sync.\(UUID().uuidString.lowercased())"
        guard case .started = try await store.startManualJob(sourceID: source.id, now: Date(), jobName: name)
        else {
            Issue.record("not started")
            return
        }
        // The previous life spawned the job and died before recording its process group.
        let orphan = Process()
        orphan.executableURL = URL(fileURLWithPath: "/bin/sleep")
        orphan.arguments = ["600"]
        orphan.environment = ["TAPLINE_JOB_NAME": name]
        orphan.standardOutput = FileHandle.nullDevice
        orphan.standardError = FileHandle.nullDevice
        try orphan.run()
        let bystander = Process()
        bystander.executableURL = URL(fileURLWithPath: "/bin/sleep")
        bystander.arguments = ["600"]
        bystander.environment = ["TAPLINE_JOB_NAME": "1.1.sync.someone-else"]
        bystander.standardOutput = FileHandle.nullDevice
        bystander.standardError = FileHandle.nullDevice
        try bystander.run()
        // SIGKILL: Foundation may spawn children with SIGTERM blocked.
        defer { kill(bystander.processIdentifier, SIGKILL) }

        let interrupted = try store.interruptRunningJobs(now: Date())
        #expect(interrupted.map(\.jobName) == [name] && interrupted[0].processGroup == nil)
        #expect(OrphanSweep.endProcesses(of: interrupted, logger: Logger(label: "test")) == 1)
        orphan.waitUntilExit()
        #expect(orphan.terminationReason == .uncaughtSignal && orphan.terminationStatus == SIGKILL)
        #expect(bystander.isRunning, "a process of another job name is left alone")
    }

    @Test("every workspace a previous life left is removed before anything starts")
    func leftoverWorkspaces() throws {
        let dir = NSTemporaryDirectory() + "tapline-sweep-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var settings = JobSettings(stateDirectory: dir)
        settings.jobsDirectoryOverride = dir + "/jobs"
        for job in ["1.1.sync.a", "1.2.check.b"] {
            try FileManager.default.createDirectory(atPath: dir + "/jobs/" + job, withIntermediateDirectories: true)
            try "{\"password\":\"x\"}".write(toFile: dir + "/jobs/" + job + "/tap-config.json", atomically: false, encoding: .utf8)
        }
        let runner = JobRunner(
            store: try Store.inMemory(catalog: SourceTypeCatalog([Self.type])).withTestDestination(), launcher: ProcessPipelineLauncher(),
            settings: settings, logger: Logger(label: "test"))
        #expect(runner.removeLeftoverWorkspaces() == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/jobs").isEmpty)
    }
}
