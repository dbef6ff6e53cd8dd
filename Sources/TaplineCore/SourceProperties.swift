import Foundation

/// The three scheduling properties every source has, whatever its type.
public enum SchedulingProperty {
    public static let frequency = "frequency_in_minutes"
    public static let anchorTime = "anchor_time"
    public static let cronExpression = "cron_expression"
    /// The IANA time zone a cron expression is read in (a tapline extension; default UTC).
    public static let cronTimeZone = "cron_timezone"
    public static let all: Set<String> = [frequency, anchorTime, cronExpression, cronTimeZone]
}

/// Size limits on property values: a request may not make tapline store, parse or show
/// megabytes where a few characters are meant (a 900 kB cron expression was once accepted, and
/// every read of its source paid for it).
public enum PropertyLimits {
    /// Any property value, in bytes.
    public static let maxValueBytes = 65_536
    /// A cron expression: seven fields need far less.
    public static let maxCronBytes = 512
}

/// A change to one value: set it, or remove it (JSON `null`).
public enum ValueChange<Value: Sendable & Equatable>: Sendable, Equatable {
    case set(Value)
    case remove

    public var newValue: Value? {
        if case .set(let v) = self { return v }
        return nil
    }
}

/// Validated changes to a source's properties, sorted into the buckets the store keeps apart:
/// plain properties (returned by the API), credentials (never returned), and the scheduling keys
/// (real columns, so `sqlite3` users and the scheduler can query them).
public struct PropertyChanges: Sendable, Equatable {
    public var regular: [String: ValueChange<String>] = [:]
    public var credentials: [String: ValueChange<String>] = [:]
    public var frequencyMinutes: ValueChange<Int>?
    public var anchorTime: ValueChange<Date>?
    public var cronExpression: ValueChange<CronExpression>?
    /// An IANA name, checked to exist.
    public var cronTimeZone: ValueChange<String>?

    public init() {}

    public var isEmpty: Bool {
        regular.isEmpty && credentials.isEmpty && frequencyMinutes == nil && anchorTime == nil && cronExpression == nil
            && cronTimeZone == nil
    }

    /// Whether the changes touch the schedule.
    public var touchesSchedule: Bool {
        frequencyMinutes != nil || anchorTime != nil || cronExpression != nil || cronTimeZone != nil
    }
}

extension SourceType {
    /// Checks a Stitch `properties` object against this type.
    ///
    /// Every value must be a non-empty string (`null` removes an optional property); scheduling
    /// keys must hold an allowed frequency, an ISO 8601 anchor and a valid Quartz expression; other
    /// keys must be declared by the type and match its pattern and format. All offending keys are
    /// reported together, as Stitch's `bad_properties` does; an invalid cron expression is reported
    /// on its own with Quartz's reason.
    public func validate(properties: [String: JSONValue]) throws(SourceError) -> PropertyChanges {
        var changes = PropertyChanges()
        var bad: [String] = []
        var cronError: SourceError?
        for (key, value) in properties {
            if case .string(let s) = value, s.isEmpty || s.utf8.count > PropertyLimits.maxValueBytes {
                bad.append(key)
                continue
            }
            if key == SchedulingProperty.cronExpression, case .string(let s) = value, s.utf8.count > PropertyLimits.maxCronBytes {
                cronError = .invalidCronExpression(
                    expression: String(s.prefix(40)) + "…", reason: "longer than \(PropertyLimits.maxCronBytes) characters")
                continue
            }
            switch key {
            case SchedulingProperty.frequency:
                switch value {
                case .null: changes.frequencyMinutes = .remove
                case .string(let s):
                    if let minutes = Frequency.parse(s, allowed: allowedFrequencies) {
                        changes.frequencyMinutes = .set(minutes)
                    } else {
                        bad.append(key)
                    }
                default: bad.append(key)
                }
            case SchedulingProperty.anchorTime:
                switch value {
                case .null: changes.anchorTime = .remove
                case .string(let s):
                    if let date = Timestamp.parse(s) { changes.anchorTime = .set(date) } else { bad.append(key) }
                default: bad.append(key)
                }
            case SchedulingProperty.cronTimeZone:
                switch value {
                case .null: changes.cronTimeZone = .remove
                case .string(let s) where CronTimeZone.named(s) != nil: changes.cronTimeZone = .set(s)
                default: bad.append(key)
                }
            case SchedulingProperty.cronExpression:
                switch value {
                case .null: changes.cronExpression = .remove
                case .string(let s):
                    do throws(CronParseError) {
                        changes.cronExpression = .set(try CronExpression(parsing: s))
                    } catch {
                        cronError = .invalidCronExpression(expression: s, reason: error.message)
                    }
                default: bad.append(key)
                }
            default:
                guard let spec = property(named: key) else {
                    bad.append(key)
                    continue
                }
                let change: ValueChange<String>
                switch value {
                case .null:
                    guard !spec.isRequired else {
                        bad.append(key)
                        continue
                    }
                    change = .remove
                case .string(let s):
                    guard spec.accepts(s) else {
                        bad.append(key)
                        continue
                    }
                    change = .set(s)
                default:
                    bad.append(key)
                    continue
                }
                if spec.isCredential { changes.credentials[key] = change } else { changes.regular[key] = change }
            }
        }
        if !bad.isEmpty { throw .invalidProperties(bad: bad.sorted(), type: type) }
        if let cronError { throw cronError }
        return changes
    }
}

extension PropertySpec {
    /// Whether a non-empty value satisfies the property's pattern and format.
    public func accepts(_ value: String) -> Bool {
        if let format, format == .dateTime, Timestamp.parse(value) == nil { return false }
        if valueType.value(of: value) == nil { return false }
        if let pattern {
            guard let regex = try? Regex(pattern), (try? regex.firstMatch(in: value)) != nil else { return false }
        }
        return true
    }
}
