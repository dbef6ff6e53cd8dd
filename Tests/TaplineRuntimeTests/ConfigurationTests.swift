import Foundation
import TaplineCore
import Testing

@testable import TaplineRuntime

@Suite("Configuration")
struct ConfigurationTests {
    static let shippedFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../config/tapline.yaml").standardized.path

    @Test("the shipped config/tapline.yaml parses and equals the embedded defaults")
    func shippedFileIsTheDefaults() throws {
        let file = try TaplineConfiguration.load(path: Self.shippedFile)
        let defaults = TaplineConfiguration()
        #expect(file.listen == defaults.listen)
        #expect(file.stitchClientID == defaults.stitchClientID)
        #expect(file.maxBodyBytes == defaults.maxBodyBytes)
        #expect(file.http == defaults.http)
        #expect(file.logLevel == defaults.logLevel)
        #expect(file.sourceTypes == defaults.sourceTypes)
        #expect(file.scheduler.startsPerSecond == defaults.scheduler.startsPerSecond)
        #expect(file.scheduler.maxRunningJobs == defaults.scheduler.maxRunningJobs)
        #expect(file.scheduler.catchUpWindowSeconds == defaults.scheduler.catchUpWindowSeconds)
        #expect(file.jobs.stopGraceSeconds == defaults.jobs.stopGraceSeconds)
        #expect(file.shutdownGraceSeconds == defaults.shutdownGraceSeconds)
        #expect(file.destinationTypes == defaults.destinationTypes)
        #expect(file.initialDestination == defaults.initialDestination)
        #expect(file.jobs.logsPerSource == defaults.jobs.logsPerSource)
        #expect(file.jobsDirectory == defaults.jobsDirectory)
    }

    @Test("scheduler, jobs and destination keys")
    func runtimeKeys() throws {
        let config = try TaplineConfiguration.parse(
            yaml: """
                scheduler:
                  catch_up_window_minutes: 90
                  starts_per_second: 50
                  max_running_jobs: 8
                jobs:
                  stop_grace_seconds: 2
                  shutdown_grace_seconds: 5
                destination:
                  target: [/opt/targets/bin/target-jsonl]
                  config:
                    destination_path: /srv/data
                """)
        #expect(config.scheduler.catchUpWindowSeconds == 5400)
        #expect(config.scheduler.startsPerSecond == 50 && config.scheduler.maxRunningJobs == 8)
        #expect(config.jobs.stopGraceSeconds == 2 && config.shutdownGraceSeconds == 5)
        #expect(config.destinationTypes.map(\.target) == [["/opt/targets/bin/target-jsonl"]])
        let jobs = config.jobSettings(stateDirectory: "/var/lib/tapline")
        #expect(jobs.targetConfig(type: config.destinationTypes[0]) == ["destination_path": .string("/srv/data")])
        let builtIn = TaplineConfiguration().jobSettings(stateDirectory: "/s")
        #expect(builtIn.targetConfig(type: BuiltInDestinationType.jsonl) == ["destination_path": .string("/s/output")])
        #expect(throws: ConfigurationError.self) { try TaplineConfiguration.parse(yaml: "scheduler:\n  starts_per_second: 0") }
        #expect(throws: ConfigurationError.self) { try TaplineConfiguration.parse(yaml: "jobs:\n  grace: 1") }
        #expect(throws: ConfigurationError.self) { try TaplineConfiguration.parse(yaml: "destination:\n  target: []") }
    }

    @Test("HTTP client limits")
    func httpLimits() throws {
        let config = try TaplineConfiguration.parse(
            yaml: "api:\n  idle_timeout_seconds: 5\n  body_timeout_seconds: 2.5\n  max_connections: 64\n  max_header_bytes: 4096\n")
        #expect(config.http.idleTimeoutSeconds == 5)
        #expect(config.http.bodyTimeoutSeconds == 2.5)
        #expect(config.http.maxConnections == 64)
        #expect(config.http.maxHeaderBytes == 4096)
    }

    @Test("an empty file means all defaults")
    func empty() throws {
        let config = try TaplineConfiguration.parse(yaml: "")
        #expect(config.listen == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(config.sourceTypes.map(\.type) == ["platform.demo"])
    }

    @Test(
        "unknown keys and bad values are errors that name the key",
        arguments: [
            ("lisen: 1.2.3.4:80", "lisen: unknown key"),
            ("api:\n  max_body: 10", "api.max_body: unknown key"),
            ("listen: nowhere", "listen: expected HOST:PORT"),
            ("stitch_client_id: abc", "stitch_client_id: expected an integer"),
            ("stitch_client_id: 0", "stitch_client_id: must be a positive integer"),
            ("log_level: loud", "log_level: expected one of"),
            ("api:\n  max_body_bytes: 10", "api.max_body_bytes: must be between"),
            ("api:\n  idle_timeout_seconds: 0", "api.idle_timeout_seconds: must be between"),
            ("api:\n  body_timeout_seconds: -1", "api.body_timeout_seconds: must be between"),
            ("api:\n  max_connections: 0", "api.max_connections: must be between"),
            ("api:\n  max_header_bytes: 100", "api.max_header_bytes: must be between"),
            ("source_types:\n  - type: x\n    tap: []", "source_types[0].tap:"),
            ("source_types:\n  - type: x\n    tap: [t]\n    allowed_frequencies: [45]", "source_types[0].allowed_frequencies:"),
            (
                "source_types:\n  - type: x\n    tap: [t]\n    default_frequency_in_minutes: 1440\n    allowed_frequencies: [60]",
                "source_types[0].default_frequency_in_minutes:"
            ),
            ("source_types:\n  - type: x\n    tap: [t]\n  - type: x\n    tap: [t]", "source_types[1].type: \"x\" is declared twice"),
            (
                "source_types:\n  - type: x\n    tap: [t]\n    properties:\n      - name: cron_expression",
                "source_types[0].properties[0].name:"
            ),
            (
                "source_types:\n  - type: x\n    tap: [t]\n    properties:\n      - name: p\n        pattern: \"([\"",
                "source_types[0].properties[0].pattern:"
            ),
            (
                "source_types:\n  - type: x\n    tap: [t]\n    properties:\n      - name: p\n        pattern: \"^a$\"\n        default: b",
                "source_types[0].properties[0].default:"
            ),
            (
                "source_types:\n  - type: x\n    tap: [t]\n    properties:\n      - name: p\n        secret: true",
                "source_types[0].properties[0].secret: unknown key"
            ),
            ("source_types:\n  - tap: [t]", "source_types[0].type: required key is missing"),
            ("listen: [1, 2]", "listen: expected a string"),
            ("- just\n- a list", "(top level)"),
        ])
    func errors(_ yaml: String, _ expected: String) {
        Self.expectRefused(yaml, expected)
    }

    /// The file is refused with an error that names its origin and contains `expected`.
    static func expectRefused(_ yaml: String, _ expected: String) {
        do {
            _ = try TaplineConfiguration.parse(yaml: yaml, origin: "test.yaml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.message.hasPrefix("test.yaml: "), "\(error.message)")
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test("a custom source type with every key")
    func customType() throws {
        let config = try TaplineConfiguration.parse(
            yaml: """
                listen: "0.0.0.0:9000"
                source_types:
                  - type: platform.postgres
                    display_name: PostgreSQL
                    tap: [/opt/taps/bin/tap-postgres, --verbose]
                    discovery: true
                    default_frequency_in_minutes: 30
                    allowed_frequencies: [1, 30, 60]
                    properties:
                      - name: host
                        required: true
                      - name: password
                        required: true
                        credential: true
                      - name: start_date
                        format: date-time
                """)
        #expect(config.listen == ListenAddress(host: "0.0.0.0", port: 9000))
        let type = try #require(config.catalog["platform.postgres"])
        #expect(type.tapCommand == ["/opt/taps/bin/tap-postgres", "--verbose"])
        #expect(type.supportsDiscovery)
        #expect(type.defaultFrequencyMinutes == 30)
        #expect(type.allowedFrequencies == [1, 30, 60])
        #expect(type.credentialNames == ["password"])
        #expect(type.property(named: "start_date")?.format == .dateTime)
        #expect(config.catalog["platform.demo"] == nil)
    }

    @Test("precedence: file < environment < flags")
    func precedence() throws {
        let dir = NSTemporaryDirectory() + "tapline-config-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/t.yaml"
        try "listen: 127.0.0.1:1000\nstate_dir: /from/file\ntoken_file: /file/token\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        let fileOnly = try ConfigurationLoader.load(path: file, listen: nil, stateDirectory: nil, environment: [:])
        #expect(fileOnly.listen.port == 1000 && fileOnly.stateDirectory == "/from/file" && fileOnly.tokenFile == "/file/token")
        let env = ["TAPLINE_LISTEN": "127.0.0.1:2000", "TAPLINE_STATE_DIR": "/from/env", "TAPLINE_TOKEN_FILE": "/env/token"]
        let withEnv = try ConfigurationLoader.load(path: file, listen: nil, stateDirectory: nil, environment: env)
        #expect(withEnv.listen.port == 2000 && withEnv.stateDirectory == "/from/env" && withEnv.tokenFile == "/env/token")
        let withFlags = try ConfigurationLoader.load(path: file, listen: "[::1]:3000", stateDirectory: "/from/flag", environment: env)
        #expect(withFlags.listen == ListenAddress(host: "::1", port: 3000) && withFlags.stateDirectory == "/from/flag")
        #expect(withFlags.resolvedDatabase() == "/from/flag/tapline.db")
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.load(path: dir + "/missing.yaml", listen: nil, stateDirectory: nil, environment: [:])
        }
    }

    @Test("the state directory defaults to $STATE_DIRECTORY under systemd, else ./.tapline in the current directory")
    func stateDirectory() {
        let config = TaplineConfiguration()
        let cwd = FileManager.default.currentDirectoryPath
        #expect(config.resolvedStateDirectory(environment: [:]) == cwd + "/.tapline")
        #expect(config.resolvedStateDirectory(environment: ["STATE_DIRECTORY": "/var/lib/tapline:/var/lib/other"]) == "/var/lib/tapline")
        #expect(config.resolvedDatabase(environment: [:]) == cwd + "/.tapline/tapline.db")
    }

    @Test("every configured path is absolute after loading, relative ones taken from the current directory")
    func relativePathsBecomeAbsolute() throws {
        let cwd = FileManager.default.currentDirectoryPath
        let defaults = try ConfigurationLoader.load(path: nil, listen: nil, stateDirectory: nil, environment: [:])
        #expect(defaults.stateDirectory == cwd + "/.tapline")
        #expect(defaults.database == cwd + "/.tapline/tapline.db")
        #expect(defaults.jobsDirectory == cwd + "/.tapline/jobs")
        #expect(defaults.workingDirectory == cwd + "/.tapline/work")
        let jobs = defaults.jobSettings(stateDirectory: defaults.stateDirectory!)
        #expect(jobs.targetConfig(type: defaults.destinationTypes[0]) == ["destination_path": .string(cwd + "/.tapline/output")])
        let env = ["TAPLINE_STATE_DIR": "st/../state", "TAPLINE_TOKEN_FILE": "tok", "RUNTIME_DIRECTORY": "/run/tapline"]
        let relative = try ConfigurationLoader.load(path: nil, listen: nil, stateDirectory: nil, environment: env)
        #expect(relative.stateDirectory == cwd + "/state" && relative.tokenFile == cwd + "/tok")
        #expect(relative.jobsDirectory == "/run/tapline/jobs")
        let flagged = try ConfigurationLoader.load(path: nil, listen: nil, stateDirectory: "x", environment: [:])
        #expect(flagged.database == cwd + "/x/tapline.db" && flagged.workingDirectory == cwd + "/x/work")
    }

    @Test("destination settings keep their YAML types: booleans, integers, lists; quoted values stay strings")
    func typedDestinationConfig() throws {
        let config = try TaplineConfiguration.parse(
            yaml: """
                destination:
                  target: [target-postgres]
                  config:
                    host: localhost
                    port: 5432
                    primary_key_required: false
                    batch_size_rows: "100000"
                    ratio: 0.5
                    schemas: [raw, staging]
                    options: {nested: true}
                    nothing: ~
                """)
        let settings = config.jobSettings(stateDirectory: "/s")
        let file = try settings.targetConfigurationFile(settings.targetConfig(type: config.destinationTypes[0]))
        let object = try #require(try JSONSerialization.jsonObject(with: file) as? [String: Any])
        #expect(object["port"] as? Int == 5432 && !(object["port"] is String))
        #expect(object["primary_key_required"] as? Bool == false && !(object["primary_key_required"] is String))
        #expect(object["batch_size_rows"] as? String == "100000")
        #expect(object["ratio"] as? Double == 0.5)
        #expect(object["schemas"] as? [String] == ["raw", "staging"])
        #expect((object["options"] as? [String: Any])?["nested"] as? Bool == true)
        #expect(object["nothing"] is NSNull && object["host"] as? String == "localhost")
        let text = String(decoding: file, as: UTF8.self)
        #expect(text.contains(#""port":5432"#) && text.contains(#""primary_key_required":false"#))
        #expect(throws: ConfigurationError.self) { try TaplineConfiguration.parse(yaml: "destination:\n  config: [a, b]") }
    }

    @Test("a property declares its type; the wire string must read as one, and the tap gets the typed value")
    func typedProperties() throws {
        let config = try TaplineConfiguration.parse(
            yaml: """
                source_types:
                  - type: platform.pg
                    tap: [tap-postgres]
                    properties:
                      - {name: port, type: integer, default: "5432"}
                      - {name: ssl, type: boolean}
                      - {name: ratio, type: number}
                      - {name: filter_schemas, type: array}
                      - {name: options, type: object}
                      - {name: host, type: string}
                """)
        let type = try #require(config.catalog["platform.pg"])
        #expect(throws: SourceError.invalidProperties(bad: ["filter_schemas", "port", "ratio", "ssl"], type: "platform.pg")) {
            try type.validate(properties: [
                "port": .string("54x"), "ssl": .string("yes"), "ratio": .string("[1]"), "filter_schemas": .string("{}"),
            ])
        }
        let changes = try type.validate(properties: [
            "port": .string("6543"), "ssl": .string("true"), "ratio": .string("1.5"),
            "filter_schemas": .string(#"["public"]"#), "options": .string(#"{"a":1}"#), "host": .string("5432"),
        ])
        #expect(changes.regular["port"] == .set("6543"))
        #expect(type.property(named: "port")?.configurationValue("6543") == .number(6543))
        #expect(type.property(named: "ssl")?.configurationValue("true") == .bool(true))
        #expect(type.property(named: "host")?.configurationValue("5432") == .string("5432"))
        #expect(throws: ConfigurationError.self) {
            try TaplineConfiguration.parse(yaml: "source_types:\n  - {type: t, tap: [t], properties: [{name: p, type: int}]}")
        }
        #expect(throws: ConfigurationError.self) {
            try TaplineConfiguration.parse(
                yaml: "source_types:\n  - {type: t, tap: [t], properties: [{name: p, type: integer, default: x}]}")
        }
    }

    @Test("listen addresses")
    func listen() {
        #expect(ListenAddress(parsing: "127.0.0.1:8080") == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(ListenAddress(parsing: ":0") == ListenAddress(host: "127.0.0.1", port: 0))
        #expect(ListenAddress(parsing: "[::1]:80") == ListenAddress(host: "::1", port: 80))
        #expect(ListenAddress(parsing: "localhost:65536") == nil)
        #expect(ListenAddress(parsing: "localhost") == nil)
        #expect(ListenAddress(parsing: "::1:80") == nil)
        #expect(ListenAddress(parsing: "host:") == nil)
    }

    @Test("notifications.webhooks are read and checked, each error naming its key")
    func webhooks() throws {
        let config = try TaplineConfiguration.parse(
            yaml: """
                notifications:
                  timeout_seconds: 3
                  webhooks:
                    - {name: ops, url: "https://hooks.example.com/t", secret_file: /etc/s, events: [job.failed]}
                    - {name: all, url: "http://127.0.0.1:8000/", secret_credential: hook}
                """)
        #expect(config.notifications.timeoutSeconds == 3)
        #expect(
            config.notifications.webhooks == [
                WebhookTarget(name: "ops", url: "https://hooks.example.com/t", secret: .file("/etc/s"), events: [.jobFailed]),
                WebhookTarget(name: "all", url: "http://127.0.0.1:8000/", secret: .credential("hook")),
            ])
        let resolved = config.resolvingPaths(environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/tapline.service"])
        #expect(resolved.notifications.webhooks[1].secret == .file("/run/credentials/tapline.service/hook"))
        for (entry, message) in [
            ("{name: a, url: ftp://x/, secret_file: /s}", "notifications.webhooks[0].url: required, an http:// or https:// URL"),
            (
                "{name: a, url: http://x/}",
                "notifications.webhooks[0]: set exactly one of secret_file (a path) or secret_credential (a systemd credential name)"
            ),
            (
                "{name: a, url: http://x/, secret_file: /s, events: [job.done]}",
                "notifications.webhooks[0].events: unknown event \"job.done\" (known: job.succeeded, job.failed, job.stopped, source.system_paused, source.system_unpaused)"
            ),
            (
                "{name: 'a b', url: http://x/, secret_file: /s}",
                "notifications.webhooks[0].name: required, 1 to 64 letters, digits, '-', '_' or '.'"
            ),
        ] {
            #expect(throws: ConfigurationError("configuration: " + message)) {
                try TaplineConfiguration.parse(yaml: "notifications:\n  webhooks:\n    - \(entry)\n")
            }
        }
    }
}

@Suite("Configuration: a cluster store")
struct ClusterConfigurationTests {
    @Test("store, store_password_file and node select PostgreSQL and this node's lease")
    func clusterKeys() throws {
        let config = try TaplineConfiguration.parse(
            yaml: """
                store: postgres://tapline@db.internal:5433/tapline?sslmode=require
                store_password_file: /etc/tapline/store-password
                jobs:
                  stop_grace_seconds: 2
                node:
                  name: node-a.1
                  address: 10.0.0.5:8080
                  lease_seconds: 20
                  renew_seconds: 4
                  reap_grace_seconds: 3
                """)
        let cluster = try #require(config.cluster)
        #expect(cluster.location.host == "db.internal" && cluster.location.port == 5433)
        #expect(cluster.location.user == "tapline" && cluster.location.database == "tapline")
        #expect(cluster.passwordFile == "/etc/tapline/store-password")
        #expect(cluster.resolvedNodeName == "node-a.1" && cluster.advertisedAddress == "10.0.0.5:8080")
        #expect(cluster.leaseSeconds == 20 && cluster.renewSeconds == 4 && cluster.reapGraceSeconds == 3)
        #expect(cluster.leaseTimings(stopGrace: config.jobs.stopGraceSeconds).problem == nil)
        #expect(try TaplineConfiguration.parse(yaml: "").cluster == nil)
    }

    @Test("the password comes from the file, else the systemd credential, else none; never from the URL")
    func passwordSources() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tapline-cred-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let plain = try #require(try TaplineConfiguration.parse(yaml: "store: postgres://u@h/d").cluster)
        #expect(plain.resolvedPasswordFile(environment: ["CREDENTIALS_DIRECTORY": directory.path]) == nil)
        let credential = directory.appendingPathComponent(ClusterSettings.passwordCredential)
        try Data("secret\n".utf8).write(to: credential)
        #expect(plain.resolvedPasswordFile(environment: ["CREDENTIALS_DIRECTORY": directory.path]) == credential.path)
        #expect(plain.resolvedPasswordFile(environment: [:]) == nil)
        let filed = try #require(try TaplineConfiguration.parse(yaml: "store: postgres://u@h/d\nstore_password_file: /p").cluster)
        #expect(filed.resolvedPasswordFile(environment: ["CREDENTIALS_DIRECTORY": directory.path]) == "/p")
        let relative = try TaplineConfiguration.parse(yaml: "store: postgres://u@h/d\nstore_password_file: pw")
        let cwd = FileManager.default.currentDirectoryPath
        #expect(relative.resolvingPaths(environment: [:]).cluster?.passwordFile == cwd + "/pw")
    }

    @Test(
        "bad cluster keys are errors that name the key and say what to do",
        arguments: [
            ("store: mysql://u@h/d", "store: must start with postgres://"),
            ("store: postgres://u:hunter2@h/d", "store: carries a password; give it in store_password_file"),
            ("store: postgres://u@h/d\ndatabase: /x.db", "database: names the SQLite file"),
            ("store_password_file: /p", "store_password_file: applies only with store:"),
            ("node:\n  name: a", "node: applies only with store:"),
            ("store: postgres://u@h/d\nstore_password_file: \"\"", "store_password_file: must not be empty"),
            ("store: postgres://u@h/d\nnode:\n  name: \"a b\"", "node.name: 1 to 63 letters"),
            ("store: postgres://u@h/d\nnode:\n  address: here", "node.address: expected HOST:PORT"),
            ("store: postgres://u@h/d\nnode:\n  lease_seconds: 1", "node.lease_seconds: must be between"),
            ("store: postgres://u@h/d\nnode:\n  renew_seconds: 0", "node.renew_seconds: must be between"),
            ("store: postgres://u@h/d\nnode:\n  reap_grace_seconds: -1", "node.reap_grace_seconds: must be between"),
            ("store: postgres://u@h/d\nnode:\n  lease: 5", "node.lease: unknown key"),
            (
                "store: postgres://u@h/d\nnode:\n  lease_seconds: 10\n  renew_seconds: 5",
                "node: lease_seconds (10.0) must be at least twice renew_seconds"
            ),
        ])
    func errors(_ yaml: String, _ expected: String) {
        ConfigurationTests.expectRefused(yaml, expected)
    }
}
