import Foundation
import TaplineCore

extension SourceRecord {
    /// What the catch-up rules do with an overdue source, whichever database holds it.
    package enum CatchUpStep: Equatable {
        /// Nothing to change (not due yet, or a pending retry not yet at its time).
        case leave
        /// Due at `occurrence` (the latest missed one), run once, coalesced.
        case due(Date)
        /// `missed` occurrences skipped; next due at `next`.
        case skip(missed: Int, next: Date?)
    }

    /// The catch-up rules (`CatchUpPolicy`) for this source at `now`: one coalesced occurrence
    /// due now when the latest missed one is within `window`, else the missed ones skipped. A
    /// pending retry whose time passed is kept due as long as the regular occurrence after it
    /// has not passed too.
    package func catchUpStep(type: SourceType?, now: Date, window: TimeInterval?) -> CatchUpStep {
        guard var nextFire = nextFireAt, nextFire < now else { return .leave }
        if let retry = pendingRetry {
            // A retry whose time passed still runs, unless its regular occurrence passed too:
            // then it is dropped and that occurrence falls under the rules below.
            guard let resume = retry.resumeAt, resume <= now else { return .leave }
            nextFire = resume
        }
        switch CatchUpPolicy.decide(schedule(type: type), nextFire: nextFire, now: now, window: window) {
        case .runNow(let occurrence): return .due(occurrence)
        case .skip(let missed, let next): return .skip(missed: missed, next: next)
        }
    }
}
