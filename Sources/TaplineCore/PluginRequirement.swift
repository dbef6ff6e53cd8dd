/// A tap or target that tapline installs itself from a Python package (`pip:` of a source or
/// destination type): the pip requirement, the name its virtual environment is kept under, and
/// the executable to run from it.
///
/// The requirement is handed to pip as written, so anything pip accepts with a distribution
/// name works: `meltanolabs-tap-postgres==0.10.0`, `tap-x>=1,<2`, `tap-x[extra]==1.0`,
/// `tap-x @ https://…/tap_x-1.0-py3-none-any.whl`. The name is what identifies the plugin: one
/// environment per distribution, so two types naming one package share it.
public struct PluginRequirement: Sendable, Hashable {
    /// The requirement as written in the configuration.
    public var requirement: String
    /// The distribution's name as PEP 503 normalises it (lower case, runs of `-`, `_` and `.`
    /// as one `-`): the plugin's directory under `<state_dir>/plugins/`.
    public var name: String
    /// The executable named in the configuration (`executable:`); `nil`: the package's only
    /// console script, found when it is installed.
    public var executable: String?

    public init(requirement: String, executable: String? = nil) throws(PluginRequirementError) {
        let trimmed = requirement.trimmingWhitespace
        guard !trimmed.isEmpty else { throw PluginRequirementError("expected a pip requirement such as meltanolabs-tap-postgres==0.10.0") }
        guard !trimmed.hasPrefix("-") else {
            throw PluginRequirementError("\"\(trimmed)\" is a pip option, not a requirement; pip options go in plugins.pip_arguments")
        }
        let raw = String(trimmed.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        guard let first = raw.first, let last = raw.last, first.isLetter || first.isNumber, last.isLetter || last.isNumber else {
            throw PluginRequirementError(
                "\"\(trimmed)\" does not start with a distribution name; write NAME, NAME==VERSION or NAME @ URL")
        }
        let rest = trimmed.dropFirst(raw.count).trimmingWhitespacePrefix
        guard rest.isEmpty || "[<>=!~;@(".contains(rest.first!) else {
            throw PluginRequirementError(
                "\"\(trimmed)\" is not a requirement pip reads (after the name \(raw) comes \"\(rest.prefix(12))\")")
        }
        if let executable {
            guard Self.isExecutableName(executable) else {
                throw PluginRequirementError("executable: expected a program name such as tap-postgres, got \"\(executable)\"")
            }
        }
        self.requirement = trimmed
        self.name = Self.normalized(raw)
        self.executable = executable
    }

    /// PEP 503's normal form of a distribution name.
    public static func normalized(_ name: String) -> String {
        var out = ""
        var separator = false
        for character in name.lowercased() {
            if "-_.".contains(character) {
                separator = true
            } else {
                if separator, !out.isEmpty { out.append("-") }
                separator = false
                out.append(character)
            }
        }
        return out
    }

    /// A console script's file name: no path, nothing a shell or a path would read specially.
    public static func isExecutableName(_ text: String) -> Bool {
        !text.isEmpty && text != "." && text != ".."
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.+".contains($0)) }
    }
}

/// Why a `pip:` requirement or its `executable:` cannot be used.
public struct PluginRequirementError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension StringProtocol {
    fileprivate var trimmingWhitespace: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
    fileprivate var trimmingWhitespacePrefix: Substring { Substring(self).drop { $0.isWhitespace } }
}
