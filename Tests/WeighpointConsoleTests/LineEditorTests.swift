import PropertyBased
import Testing
@testable import WeighpointConsole

/// Feeds bytes and collects events and echo.
func edit(_ bytes: [UInt8], echo: Bool = true, max: Int = 200) -> (events: [LineEvent], echo: [UInt8]) {
    var e = LineEditor(maxBytes: max)
    e.echo = echo
    var out: [UInt8] = []
    var events: [LineEvent] = []
    for b in bytes { if let ev = e.feed(b, echo: &out) { events.append(ev) } }
    return (events, out)
}

func edit(_ s: String, echo: Bool = true, max: Int = 200) -> (events: [LineEvent], echo: [UInt8]) { edit(Array(s.utf8), echo: echo, max: max) }

@Suite struct LineEditorTests {
    @Test(arguments: ["status\r", "status\n", "status\r\n"])
    func enterAsEveryTerminalSendsIt(_ input: String) {
        // minicom and screen send CR, some setups LF, PuTTY optionally CR LF: one line each.
        let r = edit(input + "time" + String(input.dropFirst(6)))
        #expect(r.events == [.line("status"), .line("time")])
    }

    @Test func crLfIsOneEnterButTwoCrAreTwo() {
        #expect(edit("a\r\n\r\nb\r").events == [.line("a"), .line(""), .line("b")])
        #expect(edit("a\r\r").events == [.line("a"), .line("")])
        #expect(edit("a\n\n").events == [.line("a"), .line("")])
    }

    @Test func backspaceAndDelete() {
        let r = edit("timx\u{8}e\r")
        #expect(r.events == [.line("time")])
        #expect(edit("timx\u{7f}e\r").events == [.line("time")])
        #expect(edit("\u{8}\u{8}ok\r").events == [.line("ok")], "backspace on an empty line does nothing")
        // The echo erases the character on the terminal.
        #expect(r.echo == Array("timx".utf8) + [8, 32, 8] + Array("e\r\n".utf8))
    }

    @Test func backspaceErasesAWholeWideCharacter() {
        let r = edit("苏A\u{8}\u{8}\r")
        #expect(r.events == [.line("")])
        // 'A' is one column, 苏 two: three erasures in all.
        let erasures = r.echo.count - Array("苏A".utf8).count - 2
        #expect(erasures == 3 * 3)
    }

    @Test func ctrlUAndCtrlW() {
        #expect(edit("cal set 1 0.99\u{15}status\r").events == [.line("status")])
        #expect(edit("cal set 1 0.99\u{17}1.01\r").events == [.line("cal set 1 1.01")])
        #expect(edit("cal set  \u{17}show\r").events == [.line("cal show")])
    }

    @Test func ctrlCAndCtrlD() {
        #expect(edit("cal set 1\u{3}").events == [.interrupt])
        #expect(edit("\u{4}").events == [.endOfInput])
        #expect(edit("ab\u{4}c\r").events == [.line("abc")], "Ctrl-D ends input only on an empty line")
    }

    @Test func escapeSequencesAndControlBytesAreSwallowed() {
        // Arrow keys (CSI and SS3), F5, a stray ESC, NUL, BEL, tab as a space.
        let r = edit("\u{1b}[Asta\u{1b}OBtus\u{1b}[15~\u{0}\u{7}\r")
        #expect(r.events == [.line("status")])
        #expect(edit("cal\tshow\r").events == [.line("cal show")])
        // Control bytes inside a broken escape sequence still act (found by Scripts/fuzz-console:
        // line noise ESC [ 0xFF swallowed the Ctrl-C and Enter that followed).
        #expect(edit([0x1B, 0x5B, 0xFF, 0x03]).events == [.interrupt])
        #expect(edit(Array("ab".utf8) + [0x1B, 0x5B, 0x31, 0x0D]).events == [.line("ab")])
        // An endless escape sequence gives up after 16 bytes and text resumes.
        #expect(edit("\u{1b}[" + String(repeating: "1", count: 20) + "x\r").events == [.line("1111x")])
    }

    @Test func bytesThatAreNotUTF8AreDropped() {
        let r = edit([0xFF, 0xFE, 0x80, 0xC3, 0x41, 0xE8, 0x8B, 0x8F, 0xC0, 0xAF, 0xED, 0xA0, 0x80, 0x0D])
        // 0xC3 then 'A' is broken: the 'A' counts; 苏 (E8 8B 8F) is kept; an overlong '/' and a
        // surrogate are dropped.
        #expect(r.events == [.line("A苏")])
    }

    @Test func overLongLinesAreRefusedWithOneBell() {
        let r = edit(String(repeating: "x", count: 250) + "\r" + "ok\r", max: 200)
        #expect(r.events == [.tooLong(dropped: 50), .line("ok")])
        #expect(r.echo.filter { $0 == 7 }.count == 1)
        // Erasing back below the limit does not make the line acceptable: it lost bytes.
        #expect(edit(String(repeating: "x", count: 201) + "\u{8}\r", max: 200).events == [.tooLong(dropped: 1)])
    }

    @Test func pinEntryEchoesNothing() {
        let r = edit("4711-0815\u{8}5\r", echo: false)
        #expect(r.events == [.line("4711-0815")])
        #expect(r.echo == [13, 10])
    }

    /// Fuzzing: any bytes, fed whole or split anywhere, give lines within the limit, free of
    /// control characters, and the same events and echo however they were split.
    @Test func anyBytesGiveBoundedValidLines() async {
        let bytes = Gen<UInt8>.value(in: 0...255).array(of: 0...600)
        await propertyCheck(count: 400, input: bytes, Gen.int(in: 0...600)) { input, split in
            let whole = edit(input, max: 64)
            for case .line(let l) in whole.events {
                #expect(l.utf8.count <= 64)
                #expect(!l.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "control characters in \(l.debugDescription)")
            }
            // Splitting the input anywhere changes nothing (bytes arrive in any chunks on a UART).
            var e = LineEditor(maxBytes: 64)
            var out: [UInt8] = []
            var events: [LineEvent] = []
            let cut = min(split, input.count)
            for chunk in [input[..<cut], input[cut...]] {
                for b in chunk { if let ev = e.feed(b, echo: &out) { events.append(ev) } }
            }
            #expect(events == whole.events)
            #expect(out == whole.echo)
        }
    }
}
