import TaplineCore
import Testing

@Suite("Line framer")
struct LineFramerTests {
    func run(_ reads: [String], max: Int, _ overflow: LineFramer.Overflow) -> (lines: [String], dropped: Int) {
        var framer = LineFramer(maxLineBytes: max, overflow: overflow)
        var lines: [String] = []
        var dropped = 0
        for read in reads { dropped += framer.feed(Array(read.utf8)) { lines.append(String(decoding: $0, as: UTF8.self)) } }
        framer.finish { lines.append(String(decoding: $0, as: UTF8.self)) }
        return (lines, dropped)
    }

    @Test("lines across reads, several per read, an unterminated last one")
    func framing() {
        #expect(run(["a\nb", "c\n\nd"], max: 100, .split).lines == ["a", "bc", "", "d"])
    }

    @Test("split hands a long line out in bounded pieces, every byte kept")
    func split() {
        #expect(run(["abcdefg", "h\nxy\n"], max: 3, .split).lines == ["abc", "def", "gh", "xy"])
    }

    @Test("drop leaves a long line out whole, however many reads it spans, and counts it")
    func drop() {
        let result = run(["ok\nabc", "defgh", "ij\nnext\n"], max: 4, .drop)
        #expect(result.lines == ["ok", "next"])
        #expect(result.dropped == 1)
    }
}
