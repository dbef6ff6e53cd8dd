import Foundation
import TaplineCore

extension CronExpression {
    /// The next `count` fire times after `date` (fewer if the expression stops firing).
    func nextFires(after date: Date, count: Int) -> [Date] {
        var result: [Date] = []
        var cursor = date
        while result.count < count, let next = nextFire(after: cursor) {
            result.append(next)
            cursor = next
        }
        return result
    }
}
