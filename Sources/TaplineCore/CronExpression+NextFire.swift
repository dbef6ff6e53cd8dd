import Foundation

extension CronExpression {
    /// The first fire time strictly after `date`, or `nil` if the expression never fires again
    /// (for example `0 0 0 30 FEB ?`, or a year list that lies in the past).
    ///
    /// Quartz semantics: the search starts at the whole second after `date`; the result is the
    /// earliest instant whose fields all match.
    public func nextFire(after date: Date) -> Date? {
        let startSecond = Int((date.timeIntervalSince1970).rounded(.down)) + 1
        let start = UTCCalendar.components(of: Date(timeIntervalSince1970: Double(startSecond)))
        for year in start.year...Self.years.upperBound {
            if let years, !years.contains(year) { continue }
            guard Self.years.contains(year) else { continue }
            let firstMonth = year == start.year ? start.month : 1
            guard let firstMatchingMonth = months.firstBit(from: firstMonth), firstMatchingMonth <= 12 else {
                continue
            }
            for month in firstMatchingMonth...12 where months & (1 << UInt64(month)) != 0 {
                let sameMonth = year == start.year && month == start.month
                let dayMask = matchingDays(year: year, month: month)
                var day = dayMask.firstBit(from: sameMonth ? start.day : 1)
                while let d = day {
                    let sameDay = sameMonth && d == start.day
                    if let time = firstTime(
                        hour: sameDay ? start.hour : 0, minute: sameDay ? start.minute : 0,
                        second: sameDay ? start.second : 0)
                    {
                        return UTCCalendar.date(
                            year: year, month: month, day: d, hour: time.hour, minute: time.minute,
                            second: time.second)
                    }
                    day = dayMask.firstBit(from: d + 1)
                }
            }
        }
        return nil
    }

    /// The earliest time of day at or after `hour:minute:second` that matches, if any.
    private func firstTime(hour: Int, minute: Int, second: Int) -> (hour: Int, minute: Int, second: Int)? {
        var h = hours.firstBit(from: hour)
        while let hh = h, hh <= 23 {
            var m = minutes.firstBit(from: hh == hour ? minute : 0)
            while let mm = m, mm <= 59 {
                let fromSecond = (hh == hour && mm == minute) ? second : 0
                if let ss = seconds.firstBit(from: fromSecond), ss <= 59 {
                    return (hh, mm, ss)
                }
                m = minutes.firstBit(from: mm + 1)
            }
            h = hours.firstBit(from: hh + 1)
        }
        return nil
    }

    /// The days of the given month on which the expression fires, as a mask (bit `d` = day `d`).
    func matchingDays(year: Int, month: Int) -> UInt64 {
        let length = UTCCalendar.daysIn(month: month, year: year)
        let inMonth: UInt64 = ((1 << UInt64(length + 1)) - 1) & ~1
        switch days {
        case .daysOfMonth(let mask):
            return mask & inMonth
        case .lastDayOfMonth(let offset, let nearest):
            let day = length - offset
            guard day >= 1 else {
                // Past the month's start (`L-28W` in February): Quartz's calendar reads day 0 as
                // the previous month's last day; only when that is a Sunday does the rule move
                // forward into this month, to the 1st.
                guard nearest, day == 0 else { return 0 }
                let previous = month == 1 ? (year - 1, 12) : (year, month - 1)
                let previousLength = UTCCalendar.daysIn(month: previous.1, year: previous.0)
                return UTCCalendar.weekday(year: previous.0, month: previous.1, day: previousLength) == 1 ? 1 << 1 : 0
            }
            let target = nearest ? nearestWeekday(to: day, year: year, month: month, length: length) : day
            return 1 << UInt64(target)
        case .nearestWeekday(let day):
            guard day <= length else {
                // Quartz's calendar rolls a day past the month's end into the next month to find
                // its weekday; if that virtual day is a Saturday, the Friday before it (day - 1)
                // fires when it lies in this month. Otherwise the month has no fire.
                let virtualWeekday = (UTCCalendar.weekday(year: year, month: month, day: length) - 1 + day - length) % 7 + 1
                return virtualWeekday == 7 && day - 1 <= length ? 1 << UInt64(day - 1) : 0
            }
            return 1 << UInt64(nearestWeekday(to: day, year: year, month: month, length: length))
        case .daysOfWeek(let weekdays):
            let first = UTCCalendar.weekday(year: year, month: month, day: 1)
            var mask: UInt64 = 0
            for day in 1...length {
                let weekday = (first - 1 + day - 1) % 7 + 1
                if weekdays & (1 << UInt64(weekday)) != 0 { mask |= 1 << UInt64(day) }
            }
            return mask
        case .lastWeekdayOfMonth(let weekday):
            let lastWeekday = UTCCalendar.weekday(year: year, month: month, day: length)
            let back = (lastWeekday - weekday + 7) % 7
            return 1 << UInt64(length - back)
        case .nthWeekdayOfMonth(let weekday, let n):
            let first = UTCCalendar.weekday(year: year, month: month, day: 1)
            let day = 1 + (weekday - first + 7) % 7 + (n - 1) * 7
            return day <= length ? 1 << UInt64(day) : 0
        }
    }

    /// Quartz's `W` rule: Saturday moves to Friday and Sunday to Monday, except that the move
    /// never leaves the month (Saturday the 1st goes to Monday the 3rd, Sunday the last day to
    /// Friday).
    private func nearestWeekday(to day: Int, year: Int, month: Int, length: Int) -> Int {
        switch UTCCalendar.weekday(year: year, month: month, day: day) {
        case 7: return day == 1 ? 3 : day - 1
        case 1: return day == length ? day - 2 : day + 1
        default: return day
        }
    }
}
