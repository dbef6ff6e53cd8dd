import Foundation

extension Duration {
    /// The duration in seconds, for the `Date` and `TimeInterval` arithmetic Foundation does.
    public var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
