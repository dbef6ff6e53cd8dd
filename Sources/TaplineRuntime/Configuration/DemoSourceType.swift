import TaplineCore

/// The built-in `platform.demo` source type: `tapline demo-tap` feeding `tapline jsonl-target`,
/// so a fresh install runs real jobs with nothing else installed.
public enum DemoSourceType {
    public static let definition = SourceType(
        type: "platform.demo",
        displayName: "Demo (built-in Singer tap)",
        properties: [
            PropertySpec(name: "record_count", pattern: "^[0-9]{1,9}$", defaultValue: "10"),
            PropertySpec(name: "record_delay_ms", pattern: "^[0-9]{1,7}$", defaultValue: "0"),
            PropertySpec(name: "fail", pattern: "^(true|false)$", defaultValue: "false"),
            PropertySpec(name: "streams", pattern: "^[a-z_][a-z0-9_]*(,[a-z_][a-z0-9_]*)*$", defaultValue: "users"),
            PropertySpec(name: "api_key", isCredential: true),
        ],
        defaultFrequencyMinutes: 60,
        tapCommand: ["tapline", "demo-tap"],
        defaultStartDate: "-30 days",
        checkCommand: ["tapline", "demo-tap", "--check"]
    )
}
