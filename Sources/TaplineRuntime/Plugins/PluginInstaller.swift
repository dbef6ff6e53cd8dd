import Foundation
import TaplineCore

#if canImport(Glibc)
    import Glibc
#endif

/// Installs a plugin into a new generation of its directory (see `PluginDirectory`): a virtual
/// environment made by `plugins.python`, `pip install` of the requirement with
/// `plugins.pip_arguments` and pip's own configuration, an inspection of what it installed, then
/// `plugin.json` and the switch of `current`. A failure at any step removes the new generation and
/// leaves the one in use as it was.
public struct PluginInstaller: Sendable {
    public let directory: PluginDirectory
    public let settings: PluginSettings
    public let environment: [String: String]

    public init(stateDirectory: String, settings: PluginSettings, environment: [String: String]) {
        directory = PluginDirectory(stateDirectory: stateDirectory)
        self.settings = settings
        self.environment = environment
    }

    /// Installs `plugin` unless a finished install of the same requirement is current (or
    /// always, with `force`: an upgrade re-resolves what the requirement allows). `progress`
    /// gets each line pip prints and a line per step.
    @discardableResult
    public func install(
        _ plugin: PluginRequirement, force: Bool = false, progress: (String) -> Void
    ) throws(PluginInstallError) -> InstalledPlugin {
        let home = directory.directory(of: plugin.name)
        do {
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        } catch {
            throw PluginInstallError("cannot make \(home) for \(plugin.requirement): \(Self.reason(error))")
        }
        let deadline = ContinuousClock.now + .seconds(settings.installTimeoutSeconds)
        let lock = try Self.lock(home + "/install.lock", plugin: plugin, deadline: deadline, progress: progress)
        defer { close(lock) }
        if !force, let current = directory.installed(plugin.name), current.requirement == plugin.requirement {
            return current
        }
        let number = (directory.generations(of: plugin.name).last ?? 0) + 1
        let generation = home + "/g\(number)"
        do {
            let installed = try build(plugin, in: generation, deadline: deadline, progress: progress)
            try switchCurrent(of: plugin.name, to: "g\(number)")
            prune(plugin.name)
            handToStateOwner(home)
            progress("installed \(plugin.requirement): \(installed.name) \(installed.version) in \(generation)")
            return installed
        } catch {
            try? FileManager.default.removeItem(atPath: generation)
            throw error
        }
    }

    /// Removes a plugin's directory with every generation. Jobs already running keep the files
    /// they opened; a job started later fails saying the plugin is not installed.
    public func remove(_ name: String) throws(PluginInstallError) {
        let home = directory.directory(of: name)
        guard FileManager.default.fileExists(atPath: home) else {
            throw PluginInstallError("no plugin \(name) is installed in \(directory.root)")
        }
        let lock = try Self.lock(
            home + "/install.lock", plugin: nil, deadline: .now + .seconds(settings.installTimeoutSeconds), progress: { _ in })
        defer { close(lock) }
        do {
            try FileManager.default.removeItem(atPath: home)
        } catch {
            throw PluginInstallError("cannot remove \(home): \(Self.reason(error))")
        }
    }

    /// The venv, pip and the inspection, in `generation`; returns the record it wrote there.
    func build(
        _ plugin: PluginRequirement, in generation: String, deadline: ContinuousClock.Instant, progress: (String) -> Void
    ) throws(PluginInstallError) -> InstalledPlugin {
        try? FileManager.default.removeItem(atPath: generation)
        var environment = self.environment
        environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        environment["PIP_NO_INPUT"] = "1"
        environment["PYTHONUNBUFFERED"] = "1"
        environment.removeValue(forKey: "VIRTUAL_ENV")
        environment.removeValue(forKey: "PYTHONHOME")
        environment.removeValue(forKey: "PYTHONPATH")
        if environment["PIP_CACHE_DIR"] == nil, environment["PIP_NO_CACHE_DIR"] == nil {
            // Under the unit's ProtectSystem=strict the home directory may not be writable;
            // the state directory is.
            environment["PIP_CACHE_DIR"] = directory.root + "/.pip-cache"
        }
        progress("making a virtual environment with \(settings.python) in \(generation)")
        try step(
            [settings.python, "-m", "venv", generation], what: "\(settings.python) -m venv", plugin: plugin,
            environment: environment, deadline: deadline, progress: progress)
        progress("pip install \((settings.pipArguments + [plugin.requirement]).joined(separator: " "))")
        try step(
            [generation + "/bin/python", "-m", "pip", "install", "--progress-bar", "off"] + settings.pipArguments + [
                plugin.requirement
            ], what: "pip", plugin: plugin, environment: environment, deadline: deadline, progress: progress)
        let output = try step(
            [generation + "/bin/python", "-c", Self.inspection, plugin.name], what: "the inspection of the environment",
            plugin: plugin, environment: environment, deadline: deadline, progress: { _ in })
        guard let json = output.last(where: { $0.hasPrefix("{") }),
            let found = try? JSONDecoder().decode(Inspection.self, from: Data(json.utf8))
        else {
            throw PluginInstallError(
                "pip installed \(plugin.requirement), but no distribution named \(plugin.name) is in the environment"
                    + (output.last.map { ": \($0)" } ?? ""))
        }
        var record = InstalledPlugin(
            requirement: plugin.requirement, name: plugin.name, version: found.version, executables: found.executables,
            singerSDK: found.singerSDK, python: found.python, installedAt: Self.now())
        record.directory = generation
        _ = try record.executable(for: plugin)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(record)
            let temporary = generation + "/plugin.json.tmp"
            try data.write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, generation + "/plugin.json") == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            throw PluginInstallError("cannot write \(generation)/plugin.json: \(Self.reason(error))")
        }
        return record
    }

    /// Runs one step; a failure names the package, the step and pip's own words.
    @discardableResult
    func step(
        _ argv: [String], what: String, plugin: PluginRequirement, environment: [String: String],
        deadline: ContinuousClock.Instant, progress: (String) -> Void
    ) throws(PluginInstallError) -> [String] {
        let result = try PluginProcess.run(argv, environment: environment, deadline: deadline, onLine: progress)
        if result.timedOut {
            throw PluginInstallError(
                "installing \(plugin.requirement) took longer than plugins.install_timeout_seconds (\(Int(settings.installTimeoutSeconds)) s); \(what) was stopped"
            )
        }
        guard result.exit.succeeded else {
            throw PluginInstallError(
                "\(what) could not install \(plugin.requirement) (\(result.exit.description))"
                    + (Self.cause(result.lines).map { ": \($0)" } ?? ""))
        }
        return result.lines
    }

    /// pip's reason for a failure: its `ERROR:` lines, else the last line it printed.
    static func cause(_ lines: [String]) -> String? {
        let errors = lines.filter { $0.hasPrefix("ERROR:") || $0.hasPrefix("Error:") }
        let chosen = errors.isEmpty ? lines.last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map { [$0] } ?? [] : errors
        let text = chosen.joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : String(text.prefix(1000))
    }

    /// Points `current` at `generation` with one rename, so a reader sees the old or the new.
    func switchCurrent(of name: String, to generation: String) throws(PluginInstallError) {
        let link = directory.current(of: name)
        let temporary = link + ".new"
        unlink(temporary)
        guard symlink(generation, temporary) == 0, rename(temporary, link) == 0 else {
            throw PluginInstallError("cannot point \(link) at \(generation): \(String(cString: strerror(errno)))")
        }
    }

    /// Keeps the current generation and the one before it (a job started before the switch may
    /// still be running from it); removes older and unfinished ones.
    func prune(_ name: String) {
        guard let current = directory.currentGeneration(of: name) else { return }
        let previous = directory.generations(of: name).filter { $0 < current }
            .last { PluginDirectory.record(in: directory.directory(of: name) + "/g\($0)") != nil }
        for number in directory.generations(of: name) where number != current && number != previous {
            try? FileManager.default.removeItem(atPath: directory.directory(of: name) + "/g\(number)")
        }
    }

    /// Run as root (`sudo tapline plugins install`) for a daemon that runs as its own user:
    /// the files go to the state directory's owner, so the daemon can upgrade and remove them.
    func handToStateOwner(_ home: String) {
        guard geteuid() == 0 else { return }
        var info = stat()
        guard stat((directory.root as NSString).deletingLastPathComponent, &info) == 0, info.st_uid != 0 else { return }
        for path in [directory.root, home]
            + (FileManager.default.enumerator(atPath: home)?.compactMap { home + "/" + ($0 as! String) } ?? [])
        {
            lchown(path, info.st_uid, info.st_gid)
        }
        if let cache = FileManager.default.enumerator(atPath: directory.root + "/.pip-cache") {
            lchown(directory.root + "/.pip-cache", info.st_uid, info.st_gid)
            for case let entry as String in cache { lchown(directory.root + "/.pip-cache/" + entry, info.st_uid, info.st_gid) }
        }
    }

    /// Takes the plugin's install lock (the daemon and a `tapline plugins` command may both
    /// install), waiting for another install until `deadline`.
    static func lock(
        _ path: String, plugin: PluginRequirement?, deadline: ContinuousClock.Instant, progress: (String) -> Void
    ) throws(PluginInstallError) -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PluginInstallError("cannot open \(path): \(String(cString: strerror(errno)))") }
        var told = false
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, ContinuousClock.now < deadline else {
                close(fd)
                throw PluginInstallError("another install holds \(path); nothing was changed")
            }
            if !told {
                progress("waiting for another install of \(plugin?.requirement ?? path) to finish")
                told = true
            }
            usleep(200_000)
        }
        return fd
    }

    struct Inspection: Decodable {
        var version: String
        var executables: [String]
        var singerSDK: String?
        var python: String
        enum CodingKeys: String, CodingKey {
            case version, executables, python
            case singerSDK = "singer_sdk"
        }
    }

    /// Run by the environment's interpreter with the distribution's name: its version, console
    /// scripts, and the Meltano SDK version when the distribution itself requires `singer-sdk`.
    static let inspection = """
        import importlib.metadata as m, json, platform, re, sys
        d = m.distribution(sys.argv[1])
        scripts = sorted({e.name for e in d.entry_points if e.group == "console_scripts"})
        names = {re.sub(r"[-_.]+", "-", re.split(r"[\\s;<>=!~\\[(@]", r, 1)[0]).lower() for r in (d.requires or [])}
        sdk = None
        if "singer-sdk" in names:
            try:
                sdk = m.version("singer-sdk")
            except m.PackageNotFoundError:
                pass
        print(json.dumps({"version": d.version, "executables": scripts, "singer_sdk": sdk, "python": platform.python_version()}))
        """

    static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }

    static func reason(_ error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}
