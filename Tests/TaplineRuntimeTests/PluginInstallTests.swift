import Foundation
import TaplineCore
import Testing

@testable import TaplineRuntime

/// Real installs: a virtual environment made by the machine's python3 and pip installing from a
/// wheelhouse the test writes (no network), as `plugins.pip_arguments` would point at one.
///
/// Each install keeps a core busy for seconds, which starves the timing-sensitive suites running
/// beside it on a 2-core machine; so the suite runs on its own, when `TAPLINE_PLUGIN_TESTS` is set
/// (`.ci/run` runs it after the full `swift test`).
@Suite(
    "Plugin installs", .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["TAPLINE_PLUGIN_TESTS"] != nil, "set TAPLINE_PLUGIN_TESTS=1 to run"))
struct PluginInstallTests {
    /// Writes wheels into `directory`: `singer-sdk` 0.99.0 (empty), `tapline-probe-tap` 1.0 and
    /// 1.1 (a tap requiring it, one console script `tap-probe` that answers `--about`), and
    /// `tapline-two-scripts` 1.0 (two console scripts, no SDK).
    static func makeWheelhouse(_ directory: String) throws {
        let script = #"""
            import base64, hashlib, os, sys, zipfile
            out = sys.argv[1]
            ABOUT = '{"name": "tap-probe", "capabilities": ["catalog", "discover", "state"], "settings": {"properties": {"api_key": {"type": "string", "secret": true}, "start_date": {"type": "string", "format": "date-time"}}, "required": ["api_key"]}}'
            def wheel(name, version, files, requires=(), scripts=()):
                dist = name.replace("-", "_")
                info = "%s-%s.dist-info" % (dist, version)
                meta = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)
                meta += "".join("Requires-Dist: %s\n" % r for r in requires)
                files = dict(files)
                files[info + "/METADATA"] = meta
                files[info + "/WHEEL"] = "Wheel-Version: 1.0\nGenerator: tapline-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                if scripts:
                    files[info + "/entry_points.txt"] = "[console_scripts]\n" + "".join("%s = %s\n" % s for s in scripts)
                record = []
                for path, text in files.items():
                    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
                    record.append("%s,sha256=%s,%d" % (path, digest, len(text.encode())))
                record.append(info + "/RECORD,,")
                files[info + "/RECORD"] = "\n".join(record) + "\n"
                with zipfile.ZipFile(os.path.join(out, "%s-%s-py3-none-any.whl" % (dist, version)), "w") as z:
                    for path, text in files.items():
                        z.writestr(path, text)
            wheel("singer-sdk", "0.99.0", {"singer_sdk/__init__.py": ""})
            tap = "import sys\nABOUT = %r\ndef main():\n    if '--about' in sys.argv:\n        print(ABOUT)\n    else:\n        print('tap-probe %%s' %% VERSION)\n" % ABOUT
            for version in ("1.0", "1.1"):
                wheel("tapline-probe-tap", version, {"tapline_probe_tap/__init__.py": "VERSION = %r\n" % version + tap},
                      requires=["singer-sdk"], scripts=[("tap-probe", "tapline_probe_tap:main")])
            wheel("tapline-two-scripts", "1.0", {"tapline_two/__init__.py": "def a():\n    print('a')\ndef b():\n    print('b')\n"},
                  scripts=[("two-a", "tapline_two:a"), ("two-b", "tapline_two:b")])
            """#
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, directory]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    static func workspace() throws -> (state: String, wheels: String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tapline-plugins-\(UUID().uuidString)").path
        try makeWheelhouse(root + "/wheels")
        return (root + "/state", root + "/wheels")
    }

    static func settings(wheels: String) -> PluginSettings {
        var settings = PluginSettings()
        settings.pipArguments = ["--no-index", "--find-links", wheels]
        settings.installTimeoutSeconds = 300
        return settings
    }

    static func output(_ argv: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("install, reuse, upgrade and a failed install that leaves the version in use as it was")
    func lifecycle() throws {
        let (state, wheels) = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: (state as NSString).deletingLastPathComponent) }
        let installer = PluginInstaller(
            stateDirectory: state, settings: Self.settings(wheels: wheels), environment: ProcessInfo.processInfo.environment)
        var lines: [String] = []
        let plugin = try PluginRequirement(requirement: "tapline-probe-tap==1.0")
        let first = try installer.install(plugin) { lines.append($0) }
        #expect(first.version == "1.0")
        #expect(first.executables == ["tap-probe"])
        #expect(first.singerSDK == "0.99.0")
        #expect(lines.contains { $0.contains("Successfully installed") })
        let command = installer.directory.command(name: plugin.name, executable: "tap-probe")
        #expect(command == state + "/plugins/tapline-probe-tap/current/bin/tap-probe")
        #expect(try Self.output([command]) == "tap-probe 1.0")

        // The same requirement again: nothing is installed.
        let again = try installer.install(plugin) { _ in }
        #expect(again == first)
        #expect(installer.directory.generations(of: plugin.name) == [1])

        // A new requirement: a new generation; the old one is kept for jobs still running from it.
        let newer = try PluginRequirement(requirement: "tapline-probe-tap==1.1")
        let second = try installer.install(newer) { _ in }
        #expect(second.version == "1.1")
        #expect(try Self.output([command]) == "tap-probe 1.1")
        #expect(installer.directory.generations(of: plugin.name) == [1, 2])

        // A version the wheelhouse does not have: pip's reason, the package named, nothing changed.
        let missing = try PluginRequirement(requirement: "tapline-probe-tap==9.9")
        #expect {
            try installer.install(missing) { _ in }
        } throws: { error in
            let text = "\(error)"
            return text.contains("tapline-probe-tap==9.9") && text.contains("No matching distribution")
        }
        #expect(installer.directory.installed(plugin.name)?.version == "1.1")
        #expect(installer.directory.generations(of: plugin.name) == [1, 2])
        #expect(try Self.output([command]) == "tap-probe 1.1")

        // An upgrade of the same requirement: a third generation; the first is pruned.
        _ = try installer.install(newer, force: true) { _ in }
        #expect(installer.directory.generations(of: plugin.name) == [2, 3])

        try installer.remove(plugin.name)
        #expect(installer.directory.installed(plugin.name) == nil)
        #expect(!FileManager.default.fileExists(atPath: installer.directory.directory(of: plugin.name)))
    }

    @Test("a pip: type runs its plugin's executable, describes itself when built on the Meltano SDK, and names the package it cannot use")
    func configuration() throws {
        let (state, wheels) = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: (state as NSString).deletingLastPathComponent) }
        let yaml = """
            state_dir: \(state)
            plugins:
              pip_arguments: [--no-index, --find-links, \(wheels)]
            source_types:
              - type: probe
                pip: tapline-probe-tap==1.0
              - type: two
                pip: tapline-two-scripts==1.0
                executable: two-b
            """
        let parsed = try TaplineConfiguration.parse(yaml: yaml).resolvingPaths(environment: [:])
        let environment = ProcessInfo.processInfo.environment

        // Not installed: config check's view notes it and leaves the type undescribed.
        let noted = try parsed.resolvingPlugins(.installedOnly, environment: environment)
        #expect(noted.notes.count == 2)
        #expect(noted.notes[0].contains("tapline-probe-tap==1.0 is not installed"))
        #expect(noted.configuration.catalog["probe"]?.describesItself == false)

        var progress: [String] = []
        let resolved = try parsed.resolvingPlugins(.install(progress: { progress.append($0) }), environment: environment)
            .configuration.describingTaps(environment: environment)
        #expect(resolved.catalog["probe"]?.tapCommand == [state + "/plugins/tapline-probe-tap/current/bin/tap-probe"])
        #expect(resolved.catalog["probe"]?.describesItself == true)
        #expect(resolved.catalog["probe"]?.properties.map(\.name) == ["api_key", "start_date"])
        #expect(resolved.catalog["probe"]?.property(named: "api_key")?.isCredential == true)
        #expect(resolved.catalog["two"]?.tapCommand == [state + "/plugins/tapline-two-scripts/current/bin/two-b"])
        #expect(resolved.catalog["two"]?.describesItself == false)
        #expect(progress.contains { $0.contains("pip install") })

        // Two console scripts and no executable: which ones, and what to write.
        let ambiguous = try TaplineConfiguration.parse(
            yaml: yaml.replacingOccurrences(of: "\n    executable: two-b", with: "")
        ).resolvingPaths(environment: [:])
        #expect {
            try ambiguous.resolvingPlugins(.installedOnly, environment: environment)
        } throws: { error in
            "\(error)".contains("source type two: tapline-two-scripts==1.0 installs two-a, two-b; name the one to run with executable:")
        }
    }

    @Test("pip: in the configuration file: the keys it goes with and the ones it excludes")
    func shapes() throws {
        let good = try TaplineConfiguration.parse(
            yaml: """
                source_types:
                  - type: pg
                    pip: meltanolabs-tap-postgres==0.10.0
                    executable: tap-postgres
                destination_types:
                  - type: jsonl
                    pip: target-jsonl==0.1.4
                """)
        #expect(good.catalog["pg"]?.plugin?.name == "meltanolabs-tap-postgres")
        #expect(good.catalog["pg"]?.tapCommand == ["tap-postgres"])
        #expect(good.catalog["pg"]?.aboutDeclared == false)
        #expect(good.destinationTypes.first?.plugin?.requirement == "target-jsonl==0.1.4")
        #expect(good.destinationTypes.first?.target == ["target-jsonl"])
        let refusals = [
            ("source_types: [{type: x, pip: tap-x, tap: [tap-x]}]", "source_types[0].tap: give either tap:"),
            ("source_types: [{type: x, tap: [tap-x], executable: tap-x}]", "source_types[0].executable: applies only with pip:"),
            ("source_types: [{type: x, pip: '--index-url=x'}]", "source_types[0].pip:"),
            ("destination_types: [{type: x, pip: target-x, target: [t]}]", "destination_types[0].target: give either target:"),
            ("plugins: {pip_arguments: ['']}", "plugins.pip_arguments"),
            ("plugins: {install_timeout_seconds: 1}", "plugins.install_timeout_seconds"),
            (
                "source_types: [{type: a, pip: tap-x==1}, {type: b, pip: tap_x==2}]\nstate_dir: /nonexistent",
                "one package with two requirements"
            ),
        ]
        for (yaml, message) in refusals {
            #expect {
                try TaplineConfiguration.parse(yaml: yaml).resolvingPlugins(.installedOnly, environment: [:])
            } throws: { error in
                "\(error)".contains(message)
            }
        }
    }
}
