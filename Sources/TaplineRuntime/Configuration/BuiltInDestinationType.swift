import TaplineCore

/// The built-in destination: `tapline jsonl-target` writing one JSON Lines file per stream under
/// `<state_dir>/output`. Stitch clients accept only five destination types; it reports `s3`,
/// the Stitch destination that also writes files (JSONL among its formats).
public enum BuiltInDestinationType {
    public static let jsonl = DestinationType(
        type: "jsonl", stitchType: "s3", displayName: "JSON Lines files (built-in)", target: ["tapline", "jsonl-target"],
        config: ["destination_path": .string("${STATE_DIRECTORY}/output")])
}
