import Foundation

/// Stitch's job names: `<stitch_client_id>.<source_id>.sync.<uuid v1>`.
public enum JobName {
    public static func make(clientID: Int64, sourceID: Int64, at date: Date) -> String {
        "\(clientID).\(sourceID).sync.\(uuidV1(at: date))"
    }

    /// A version-1 (time-based) UUID as Stitch uses: 60-bit timestamp in 100 ns since 1582-10-15,
    /// a random clock sequence and a random node with the multicast bit set (RFC 4122 §4.5, as
    /// no MAC address is used).
    public static func uuidV1(at date: Date) -> String {
        var generator = SystemRandomNumberGenerator()
        let gregorianOffset: UInt64 = 0x01B2_1DD2_1381_4000
        let ticks =
            UInt64(max(0, date.timeIntervalSince1970) * 10_000_000) &+ gregorianOffset &+ UInt64.random(in: 0..<10, using: &generator)
        let timeLow = UInt32(truncatingIfNeeded: ticks)
        let timeMid = UInt16(truncatingIfNeeded: ticks >> 32)
        let timeHigh = UInt16(truncatingIfNeeded: ticks >> 48) & 0x0FFF | 0x1000
        let clockSequence = UInt16.random(in: 0...0x3FFF, using: &generator) | 0x8000
        let node = UInt64.random(in: 0...0xFFFF_FFFF_FFFF, using: &generator) | 0x0100_0000_0000
        return String(format: "%08x-%04x-%04x-%04x-%012llx", timeLow, timeMid, timeHigh, clockSequence, node)
    }
}
