import Foundation
import Testing

@testable import TaplineCore

@Suite("Plugin requirements")
struct PluginRequirementTests {
    @Test(
        "the distribution name is read from each form pip accepts and normalised as PEP 503 does",
        arguments: [
            ("meltanolabs-tap-postgres==0.10.0", "meltanolabs-tap-postgres"),
            ("Target_JSONL==0.1.4", "target-jsonl"),
            ("tap.x>=1,<2", "tap-x"),
            ("tap-x[s3] == 1.0", "tap-x"),
            ("tap_x @ https://example.com/tap_x-1.0-py3-none-any.whl", "tap-x"),
            ("tap-x ; python_version >= '3.9'", "tap-x"),
            ("  tap-x  ", "tap-x"),
            ("tap--x__y", "tap-x-y"),
        ])
    func names(requirement: String, name: String) throws {
        let plugin = try PluginRequirement(requirement: requirement)
        #expect(plugin.name == name)
        #expect(plugin.requirement == requirement.trimmingCharacters(in: .whitespaces))
    }

    @Test(
        "what is not a requirement is refused with the reason",
        arguments: [
            ("", "expected a pip requirement"),
            ("--index-url https://x", "pip option"),
            ("https://example.com/x.whl", "is not a requirement pip reads"),
            ("./wheels/tap.whl", "does not start with a distribution name"),
            ("-e .", "pip option"),
        ])
    func refused(requirement: String, message: String) {
        #expect {
            try PluginRequirement(requirement: requirement)
        } throws: { error in
            (error as? PluginRequirementError)?.description.contains(message) == true
        }
    }

    @Test("an executable is a program name, never a path")
    func executables() throws {
        #expect(try PluginRequirement(requirement: "tap-x", executable: "tap-x.py").executable == "tap-x.py")
        for bad in ["../bin/sh", "/bin/sh", "tap x", "", ".."] {
            #expect(throws: PluginRequirementError.self) { try PluginRequirement(requirement: "tap-x", executable: bad) }
        }
    }
}
